"""Every page area has the same shape: links by route name, words from the shared tables, dates
in one format, and reads through domain functions, never another package's SQL store."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGE_PACKAGES = ("spokes/pages", "hub/pages", "hub/coordinator")
PLUMBING = ("telehub/signin_pages.py", "telehub/mfa_pages.py", "telehub/web.py")
PAGE_MODULES = sorted(
    [*(ROOT / p for p in PLUMBING), *(m for p in PAGE_PACKAGES for m in (ROOT / p).glob("*.py"))]
)
TEMPLATES = sorted((ROOT / "templates").rglob("*.html"))
# The path of a page: a route name stands for it. Static files and the API are not pages.
_PAGE_PATH = r"/(?:spoke|hub|coordinator|signin|signout)\b"
_LINK = re.compile(rf"""(?:href|action|formaction)\s*=\s*["']{_PAGE_PATH}""")
_DISPLAY_FORMAT = re.compile(r"strftime\([^)]*%[aAbBpI]")
_HOME_LINK = re.compile(r"""(?:href|action)\s*=\s*["']/["']""")


def _name(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _imports(path: Path) -> set[str]:
    """Every module a file imports, `from a import b` counted as both `a` and `a.b`."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
    return found


def _route_paths(path: Path) -> set[str]:
    """The paths a module declares routes at (`@routes.get("/spoke", ...)`)."""
    return {
        arg.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Call) and getattr(node.func, "attr", "") in ("get", "post")
        for arg in node.args[:1]
        if isinstance(arg, ast.Constant) and isinstance(arg.value, str)
    }


def _path_strings(path: Path) -> list[str]:
    """String constants spelling a page's path, other than route declarations and cookie scopes."""
    declared = _route_paths(path)
    cookie_scopes = {
        kw.value.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.keyword) and kw_is_path(node)
        for kw in [node]
        if isinstance(kw.value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and re.match(_PAGE_PATH, node.value)
        and node.value not in declared | cookie_scopes
    ]


def kw_is_path(node: ast.keyword) -> bool:
    """A `path=` keyword: a cookie's scope, not a place to send anyone."""
    return node.arg == "path"


def test_the_checks_see_every_page_area() -> None:
    names = {_name(m) for m in PAGE_MODULES}
    assert {"spokes/pages/book.py", "hub/pages/week.py", "hub/coordinator/clients.py"} <= names
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("template", TEMPLATES, ids=_name)
def test_a_template_links_pages_by_route_name(template: Path) -> None:
    text = template.read_text()
    assert _LINK.findall(text) == [] and _HOME_LINK.findall(text) == []


@pytest.mark.parametrize("module", PAGE_MODULES, ids=_name)
def test_a_page_module_sends_people_on_by_route_name(module: Path) -> None:
    assert _path_strings(module) == []
    if module.name != "web.py":  # url_for itself
        assert ".router[" not in module.read_text()


def _reached_stores(path: Path) -> set[str]:
    """Stores a module imports, or functions it imports from one; a store's record types (the
    domain's values, `from hub.store import Consultant`) may be named."""
    reached: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            reached |= {a.name for a in node.names if a.name.endswith("store")}
        elif isinstance(node, ast.ImportFrom) and node.module:
            for alias in node.names:
                if alias.name.endswith("store") or (
                    node.module.endswith("store") and not alias.name[:1].isupper()
                ):
                    reached.add(f"{node.module}.{alias.name}")
    return reached


@pytest.mark.parametrize("module", PAGE_MODULES, ids=_name)
def test_a_page_module_reaches_into_no_sql_store(module: Path) -> None:
    assert _reached_stores(module) == set()


@pytest.mark.parametrize("module", PAGE_MODULES, ids=_name)
def test_a_page_module_shows_dates_and_codes_the_shared_way(module: Path) -> None:
    text = module.read_text()
    # Moments are shown by local_time (web.py), one format, one clock; a page module formats
    # only what an input's value needs (`%H:%M` for <input type=time>).
    if module.name != "web.py":
        assert _DISPLAY_FORMAT.findall(text) == []
    for copied in ("STATUS_LABELS", "KIND_LABELS", "ROLE_LABELS", '"Video session"'):
        assert copied not in text  # telehub.labels, the one table


@pytest.mark.parametrize("template", TEMPLATES, ids=_name)
def test_a_template_shows_zones_and_statuses_the_shared_way(template: Path) -> None:
    text = template.read_text()
    assert 'replace("_", " ")' not in text and "replace('_', ' ')" not in text  # `zone` filter
    assert "status_labels" not in text  # the `label` filter
