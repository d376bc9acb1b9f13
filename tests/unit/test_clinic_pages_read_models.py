"""The clinic's loop pages ask read models, never another package's SQL store."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOOP_PAGES = ("dashboard", "econsults", "notes")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, `from a import b` counted as both `a` and `a.b`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


@pytest.mark.parametrize("name", LOOP_PAGES)
def test_a_clinic_loop_page_imports_no_sql_store(name: str) -> None:
    modules = imported_modules(ROOT / "spokes" / "pages" / f"{name}.py")

    stores = {m for m in modules if m.rsplit(".", 1)[-1].endswith("store")}

    assert stores == set()


def test_the_dashboard_handler_asks_one_read_model() -> None:
    modules = imported_modules(ROOT / "spokes" / "pages" / "dashboard.py")

    assert "spokes.overview.clinic_dashboard" in modules
    assert not {m for m in modules if m.split(".")[0] in ("scheduling", "consults", "hub")}
