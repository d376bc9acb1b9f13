"""In a real browser: a clinic scheduler signs in and sees the clinic's dashboard."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.factories import Network

pytestmark = pytest.mark.slow


async def test_a_scheduler_signs_in_with_the_keyboard_and_sees_the_dashboard(
    page: Page, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)

    await page.goto("/spoke")
    assert "/signin?next=" in page.url
    await expect(page.get_by_role("heading", name="Sign in to Telehub")).to_be_visible()
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill("not the password")
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("alert")).to_contain_text("do not match an account")
    await expect(page.get_by_label("Email")).to_have_value(email)  # what was typed is kept
    await screenshot(page, "signin-error")

    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()

    await expect(page.get_by_role("heading", level=1)).to_have_text(spoke.name)
    await expect(page.get_by_role("link", name="Dashboard")).to_have_attribute(
        "aria-current", "page"
    )
    await screenshot(page, "spoke-dashboard")
