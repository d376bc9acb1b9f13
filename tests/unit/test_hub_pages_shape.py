"""The consultant's pages name URLs by route, use the shared labels, and read through views."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "hub" / "pages").glob("*.py"))
TEMPLATES = sorted((ROOT / "templates" / "hub").glob("*.html"))
LITERAL_PATH = re.compile(r"""(href|action)="/(hub|spoke|coordinator|signin)""")


def test_templates_name_their_links_by_route() -> None:
    found = [
        f"{t.name}: {m.group(0)}" for t in TEMPLATES for m in LITERAL_PATH.finditer(t.read_text())
    ]
    assert found == []


def test_page_modules_redirect_by_route_name() -> None:
    literal = []
    for module in PAGES:
        for node in ast.walk(ast.parse(module.read_text())):
            if (
                isinstance(node, ast.Constant)
                and isinstance(node.value, str)
                and re.match(r"^/(hub|spoke|coordinator|signin)", node.value)
            ):
                literal.append(f"{module.name}: {node.value}")
    route_paths = {
        arg.value
        for module in PAGES
        for node in ast.walk(ast.parse(module.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("get", "post")
        for arg in node.args
        if isinstance(arg, ast.Constant)
    }
    assert [p for p in literal if p.split(": ", 1)[1] not in route_paths] == []


def test_page_modules_reach_into_no_store() -> None:
    """A page may name a store's record types, never a store or its functions (its SQL)."""
    reached = []
    for module in PAGES:
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                for alias in node.names:
                    is_store = alias.name.endswith("store") or node.module.endswith("store")
                    if is_store and not alias.name[:1].isupper():
                        reached.append(f"{module.name}: {node.module}.{alias.name}")
            if isinstance(node, ast.Import):
                reached += [f"{module.name}: {a.name}" for a in node.names if "store" in a.name]
    assert reached == []


def test_statuses_come_from_the_shared_labels() -> None:
    assert all("STATUS_LABELS" not in m.read_text() for m in PAGES)
    assert all("labels.get(" not in t.read_text() for t in TEMPLATES)
