"""The coordinator's page modules ask domain functions for what they show: none imports a
package's SQL store (`hub.program` and `hub.network` join what the pages need)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PAGES = sorted((Path(__file__).parents[2] / "hub" / "coordinator").glob("*.py"))


def _imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("path", PAGES, ids=lambda p: p.name)
def test_no_coordinator_page_module_imports_a_store(path: Path) -> None:
    stores = {name for name in _imported(path) if name.rsplit(".", 1)[-1].endswith("store")}
    assert not stores, f"{path.name} imports {sorted(stores)}"


def test_the_check_sees_the_page_modules() -> None:
    assert {p.name for p in PAGES} >= {"clients.py", "dashboard.py", "network.py"}
