"""Every module imports on its own, and page modules import one way (STYLE.md item 16).

A module that only works once some other module has been imported first (the page modules that
registered on a sibling's route table) hides a cycle; `python -c "import that.module"` is the
check, run here for every module of the packages. Page modules each have their own route table:
only their package's `__init__` (which mounts them) and the app factory import them.
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("telehub", "hub", "spokes", "scheduling", "consults", "care", "fhir_r4")
PAGE_PACKAGES = ("spokes.pages", "hub.pages", "hub.coordinator")
SIGNIN_PAGES = ("telehub.signin_pages", "telehub.mfa_pages")  # mounted by the app factory
MOUNTERS = frozenset({*PAGE_PACKAGES, "telehub.app"})  # may import page modules

# Imported once before forking, so that each child pays only for the project's own modules;
# the project's modules are never loaded in the parent.
THIRD_PARTY = (
    "aiohttp.web",
    "aiohttp_jinja2",
    "argon2",
    "asyncpg",
    "icalendar",
    "jinja2",
    "jwt",
    "pydantic",
    "pyotp",
    "segno",
    "standardwebhooks",
    "structlog",
)

# Runs in a fresh interpreter: each module is imported in its own child of a process that has
# loaded no module of the project, and the children's failures come back as JSON.
IMPORT_EACH = """
import importlib, json, os, sys, traceback

def child(name, write):
    try:
        importlib.import_module(name)
        code = 0
    except BaseException:
        os.write(write, traceback.format_exc().encode()[:60000])  # fits the pipe: never blocks
        code = 1
    os._exit(code)

for name in sys.argv[2:]:
    importlib.import_module(name)
names = json.loads(sys.argv[1])
at_once = os.cpu_count() or 1
failed = {}
for start in range(0, len(names), at_once):
    running = []
    for name in names[start : start + at_once]:
        read, write = os.pipe()
        pid = os.fork()
        if pid == 0:
            os.close(read)
            child(name, write)
        os.close(write)
        running.append((name, pid, read))
    for name, pid, read in running:
        with os.fdopen(read, "rb") as pipe:
            report = pipe.read().decode()
        _, status = os.waitpid(pid, 0)
        if status != 0:
            failed[name] = report or f"exit status {status}"
print(json.dumps(failed))
"""


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def project_modules() -> dict[str, Path]:
    """Every module of the packages, by dotted name."""
    return {
        module_name(path): path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "__pycache__" not in path.parts
    }


def imported_names(name: str, path: Path, known: set[str]) -> set[str]:
    """The project modules a module imports (`from a import b` counts as `a.b` when it is one)."""
    found: set[str] = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{anchor}.{base}" if base else anchor
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found & known


def has_route_table(path: Path) -> bool:
    """Whether a module assigns a top-level `routes` (its own route table)."""
    return any(
        isinstance(node, ast.Assign)
        and any(isinstance(t, ast.Name) and t.id == "routes" for t in node.targets)
        for node in ast.parse(path.read_text(), str(path)).body
    )


def test_the_packages_have_their_modules() -> None:
    modules = project_modules()
    assert {"telehub.app", "hub.pages.week", "spokes.pages.common", "hub.coordinator"} <= set(
        modules
    )


def test_every_module_imports_on_its_own() -> None:
    modules = sorted(project_modules())
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, json.dumps(modules), *THIRD_PARTY],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    failed = json.loads(done.stdout)
    assert failed == {}, "\n".join(f"{name}:\n{report}" for name, report in failed.items())


def test_a_module_imports_itself_in_a_fresh_interpreter() -> None:
    # The very check the issue names, once, so that the batched one above is not taken on faith.
    done = subprocess.run(
        [sys.executable, "-c", "import hub.pages.econsults"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr


def test_the_batched_check_reports_a_module_that_fails() -> None:
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_EACH, json.dumps(["hub.store", "hub.no_such_module"])],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    failed = json.loads(done.stdout)
    assert list(failed) == ["hub.no_such_module"]
    assert "ModuleNotFoundError" in failed["hub.no_such_module"]


def test_page_modules_are_imported_only_by_what_mounts_them() -> None:
    modules = project_modules()
    known = set(modules)
    pages = {
        name
        for name, path in modules.items()
        if name.startswith(tuple(f"{p}." for p in PAGE_PACKAGES)) and has_route_table(path)
    } | set(SIGNIN_PAGES)
    for package in PAGE_PACKAGES:
        assert any(page.startswith(f"{package}.") for page in pages), f"no pages in {package}"
    wrong = {
        name: sorted(imported_names(name, path, known) & (pages | set(PAGE_PACKAGES)))
        for name, path in modules.items()
        if name not in MOUNTERS
    }
    assert {name: found for name, found in wrong.items() if found} == {}


def test_every_way_of_importing_a_page_module_is_seen(tmp_path: Path) -> None:
    module = tmp_path / "feed.py"
    module.write_text(
        "from hub.pages import week\n"
        "import hub.pages.econsults\n"
        "from .availability import availability_page\n"
        "from . import session_notes\n"
        "from hub.pages.common import consultant_user\n"
    )
    known = {f"hub.pages.{m}" for m in ("week", "econsults", "availability", "session_notes")}
    known |= {"hub.pages", "hub.pages.common"}
    assert imported_names("hub.pages.feed", module, known) == known


def test_what_the_pages_share_has_no_routes() -> None:
    # Every page imports these; one with routes of its own would be a page imported by pages.
    modules = project_modules()
    shared = [
        "telehub.web",
        "spokes.pages.common",
        "hub.pages.common",
        "hub.pages.note_editor",
        "hub.pages.econsult_view",
        "hub.coordinator.common",
    ]
    assert [name for name in shared if has_route_table(modules[name])] == []
