"""axe-core finds no WCAG 2.1 A or AA violation on any page of any role, at desktop width."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, BrowserContext, Page, expect

from telehub import mfa
from tests.e2e.axe import axe_script, violations
from tests.e2e.clinic_scene import (
    ClinicScene,
    busy_clinic,
    consultant_pages,
    coordinator_pages,
    scheduler_pages,
    sign_in,
)
from tests.e2e.conftest import answer_code_prompts
from tests.factories import Clock, Network

pytestmark = pytest.mark.slow


@pytest.fixture(scope="session")
def axe() -> Path:
    return axe_script()


@pytest.fixture
async def context(browser: Browser, live: TestServer) -> AsyncIterator[BrowserContext]:
    """A desktop browser context that lets axe's script in past the page's CSP."""
    made = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"),
        viewport={"width": 1280, "height": 900},
        bypass_csp=True,
    )
    yield made
    await made.close()


@pytest.fixture
async def tab(context: BrowserContext, live: TestServer) -> Page:
    """A tab of that context that answers the sign-in code step itself."""
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await answer_code_prompts(page, live.app)
    return page


@pytest.fixture
async def scene(network: Network, live: TestServer) -> ClinicScene:
    return await busy_clinic(network, live)


async def check(page: Page, axe: Path, paths: list[str]) -> None:
    """Visit each page and collect what axe finds; one assertion names them all."""
    found = {}
    for path in paths:
        response = await page.goto(path)
        assert response is not None and response.status < 400, (path, response)
        if problems := await violations(page, axe):
            found[path] = problems
    assert not found, found


async def test_signin_and_code_pages_have_no_wcag_violation(
    context: BrowserContext, network: Network, axe: Path, clock: Clock
) -> None:
    page = await context.new_page()  # no code answering: the code page is checked itself
    await page.goto("/")
    assert not await violations(page, axe)
    await page.goto("/signin")
    assert not await violations(page, axe)
    email, password = await network.user("hub_coordinator")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_be_visible()  # refused, said so
    assert not await violations(page, axe)

    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/signin/code**")
    assert not await violations(page, axe)
    await page.get_by_label("Authentication code").fill("000000")
    await page.get_by_role("button", name="Continue").click()
    await expect(page.get_by_role("alert")).to_be_visible()  # a wrong code, said so
    assert not await violations(page, axe)

    await context.clear_cookies()
    email, password = await network.user("hub_coordinator", authenticator=False)
    await page.goto("/signin")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url("**/signin/enrol**")
    assert not await violations(page, axe)
    secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
    await page.get_by_label("Authentication code").fill("000000")
    await page.get_by_role("button", name="Turn on two-step sign-in").click()
    await expect(page.get_by_role("alert")).to_be_visible()
    assert not await violations(page, axe)
    await page.get_by_label("Authentication code").fill(mfa.code_at(secret, mfa.step_of(clock.now)))
    await page.get_by_role("button", name="Turn on two-step sign-in").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in is on")
    assert not await violations(page, axe)  # the recovery codes, shown once


async def test_scheduler_pages_have_no_wcag_violation(
    tab: Page, network: Network, scene: ClinicScene, axe: Path
) -> None:
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(tab, email, password, "/spoke")
    await check(tab, axe, await scheduler_pages(tab, scene))


async def test_consultant_pages_have_no_wcag_violation(
    tab: Page, network: Network, scene: ClinicScene, axe: Path
) -> None:
    email, password = await network.user("consultant", consultant_id=scene.consultant_id)
    await sign_in(tab, email, password, "/hub")
    await check(tab, axe, consultant_pages(scene))


async def test_coordinator_pages_have_no_wcag_violation(
    tab: Page, network: Network, scene: ClinicScene, axe: Path
) -> None:
    email, password = await network.user("hub_coordinator")
    await sign_in(tab, email, password, "/coordinator")
    await check(tab, axe, coordinator_pages(scene))


async def test_the_check_itself_finds_what_it_should(context: BrowserContext, axe: Path) -> None:
    """An image without a text alternative and unlabelled input are reported, so a clean run
    above means axe ran, not that nothing was looked at."""
    page = await context.new_page()
    await page.goto("/signin")
    await page.evaluate(
        """() => document.querySelector('main').insertAdjacentHTML('beforeend',
             '<img src="/static/x.png"><input type="text" id="nameless">')"""
    )
    found = " ".join(await violations(page, axe))
    assert "image-alt" in found and "#nameless" in found, found
