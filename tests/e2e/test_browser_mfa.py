"""In a real browser: a coordinator sets up two-step sign-in with the QR page, then signs in
again with a code."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, ConsoleMessage, expect

from telehub import mfa
from tests.e2e.conftest import screenshot
from tests.factories import Clock, Network, fresh_code

pytestmark = pytest.mark.slow


async def test_a_coordinator_enrols_an_authenticator_and_signs_in_with_a_code(
    browser: Browser, live: TestServer, network: Network, clock: Clock
) -> None:
    email, password = await network.user("hub_coordinator", authenticator=False)
    # Its own window, without the code helper the `page` fixture adds: this test types.
    context = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"), viewport={"width": 1024, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    refused: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if "Content Security Policy" in message.text:
            refused.append(message.text)

    page.on("console", on_console)
    try:
        await page.goto("/coordinator")
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.keyboard.press("Enter")

        await expect(page.get_by_role("heading", level=1)).to_have_text("Set up two-step sign-in")
        qr = page.get_by_role("img", name="QR code for setting up Telehub")
        await expect(qr).to_be_visible()
        assert await qr.evaluate("img => img.complete && img.naturalWidth > 0")  # drawn
        secret = (await page.locator("#totp-secret").inner_text()).replace(" ", "")
        await screenshot(page, "mfa-enrol")

        await page.get_by_label("Authentication code").fill("000000")
        await page.get_by_role("button", name="Turn on two-step sign-in").click()
        await expect(page.get_by_role("alert")).to_contain_text("That code is not right")

        code = mfa.code_at(secret, mfa.step_of(clock.now))
        await page.get_by_label("Authentication code").fill(code)
        await page.get_by_role("button", name="Turn on two-step sign-in").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Two-step sign-in is on")
        await expect(page.get_by_role("list", name="Recovery codes").locator("li")).to_have_count(
            10
        )
        await screenshot(page, "mfa-recovery-codes")
        await page.get_by_role("link", name="continue").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Program")

        await page.get_by_role("button", name="Sign out").click()
        await page.goto("/coordinator")
        await page.get_by_label("Email").fill(email)
        await page.get_by_label("Password").fill(password)
        await page.keyboard.press("Enter")
        await expect(page.get_by_role("heading", level=1)).to_have_text("Enter your sign-in code")
        await page.get_by_label("Authentication code").fill(code)  # the one used to enrol
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("alert")).to_contain_text("already been used")
        await screenshot(page, "mfa-code-replayed")

        await page.get_by_label("Authentication code").fill(
            await fresh_code(live.app, email, secret)
        )
        await page.get_by_role("button", name="Continue").click()
        await expect(page.get_by_role("heading", level=1)).to_have_text("Program")
        assert refused == []
    finally:
        await context.close()
