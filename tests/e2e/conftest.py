"""Fixtures for browser tests: Debian's Chromium driven by Playwright, the app on a real port."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Protocol

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Locator, Page, async_playwright
from pytest_aiohttp import AiohttpServer

from telehub.app import create_app
from telehub.settings import Settings
from tests.e2e.webhook_lab import Lab
from tests.factories import Clock, fresh_code

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(__file__).parent / "screenshots"
PHONE_WIDTH = 390
# The closed network refuses Chromium's background connections; don't let it try.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    """Headless Chromium (Debian's package: Playwright downloads no browser here)."""
    executable = os.environ.get("CHROMIUM") or shutil.which("chromium")
    assert executable, "install Debian's chromium for the browser tests (.ci/run does)"
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_FLAGS
        )
        yield launched
        await launched.close()


@pytest.fixture
async def live(
    pool: asyncpg.Pool, aiohttp_server: AiohttpServer, settings: Settings, clock: Clock
) -> TestServer:
    """The whole app serving real HTTP on a loopback port."""
    return await aiohttp_server(create_app(settings, pool=pool, clock=clock))


@pytest.fixture
async def page(browser: Browser, live: TestServer) -> AsyncIterator[Page]:
    """A fresh browser tab at tablet width, pointed at the live app."""
    context = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"), viewport={"width": 1024, "height": 900}
    )
    tab = await context.new_page()
    tab.set_default_timeout(10_000)
    await answer_code_prompts(tab, live.app)
    yield tab
    await context.close()


class TabOf(Protocol):
    """Opens a fresh tab of a width on the live app (see the tab_of fixture)."""

    async def __call__(self, width: int, *, height: int = 844) -> Page: ...


@pytest.fixture
async def tab_of(browser: Browser, live: TestServer) -> AsyncIterator[TabOf]:
    """Fresh tabs of a given width on the live app, each in its own context, all closed
    afterwards: a phone below 500 px; axe's script let in past the page's CSP."""
    contexts: list[BrowserContext] = []

    async def open_tab(width: int, *, height: int = 844) -> Page:
        context = await browser.new_context(
            base_url=str(live.make_url("/")).rstrip("/"),
            viewport={"width": width, "height": height},
            is_mobile=width < 500,
            bypass_csp=True,  # lets axe's script in
        )
        contexts.append(context)
        tab = await context.new_page()
        tab.set_default_timeout(10_000)
        await answer_code_prompts(tab, live.app)
        return tab

    yield open_tab
    for context in contexts:
        await context.close()


@pytest.fixture
async def phone(tab_of: TabOf) -> Page:
    """A fresh tab the size of a phone (390 px wide), pointed at the live app."""
    return await tab_of(PHONE_WIDTH)


@pytest.fixture(scope="session")
def bench_smoke(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """`python -m bench --smoke` against the test PostgreSQL, run once for every bench test:
    what it printed, and its results.json read strictly (NaN or Infinity is an error)."""
    out = tmp_path_factory.mktemp("bench")
    results = out / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(results), "--logs", str(out)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    def refuse(constant: str) -> None:
        raise ValueError(f"results.json holds {constant}, which is not JSON")

    return done.stdout, json.loads(results.read_text(), parse_constant=refuse)


@pytest.fixture
async def lab(empty_database_url: str, tmp_path: Path) -> AsyncIterator[Lab]:
    """A place to start servers and webhook receivers on one empty database; all stopped
    afterwards."""
    async with aiohttp.ClientSession() as session:
        lab = Lab(empty_database_url, tmp_path, session)
        try:
            yield lab
        finally:
            await lab.close()


async def answer_code_prompts(page: Page, app: web.Application) -> None:
    """Whenever the sign-in code page shows, type the code of the test authenticator that
    `Network.user` enrols (hub staff, consultants), so a test signs in as it always did."""
    prompt = page.locator("form[data-signin-step=code]")

    async def answer(form: Locator) -> None:
        email = await page.locator("[data-signin-email]").inner_text()
        await form.get_by_label("Authentication code").fill(await fresh_code(app, email))
        await form.get_by_role("button", name="Continue").click()

    await page.add_locator_handler(prompt, answer)


async def screenshot(page: Page, name: str) -> None:
    """Keep a picture of the page for people to look at (the folder is not committed)."""
    SCREENSHOTS.mkdir(exist_ok=True)
    await page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)
