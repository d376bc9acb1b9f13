"""The booking pages' new states fit a 390 px phone and pass axe at phone and desktop width:
a time that is not open (its reason and the nearest times), the cancel question, a moved
booking, and a cancelled one offering to book another time."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import busy_clinic, sign_in
from tests.e2e.conftest import PHONE_WIDTH, TabOf, screenshot
from tests.e2e.fit import misfits
from tests.factories import Network

pytestmark = pytest.mark.slow


@pytest.fixture(params=[PHONE_WIDTH, 1280], ids=["phone", "desktop"])
async def tab(request: pytest.FixtureRequest, tab_of: TabOf) -> Page:
    """A fresh tab at phone or desktop width, pointed at the live app, letting axe in."""
    width: int = request.param
    return await tab_of(width)


async def test_closed_time_cancel_question_moved_and_cancelled_pages_fit_and_pass_axe(
    tab: Page, network: Network, live: TestServer, pool: asyncpg.Pool
) -> None:
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(tab, email, password, "/spoke")
    width = tab.viewport_size["width"] if tab.viewport_size else 0
    seen: dict[str, dict[str, object]] = {}

    async def look(name: str) -> None:
        seen[name] = await misfits(tab)
        await screenshot(tab, f"booking-states-{width}-{name}")

    async with pool.acquire() as conn:
        held = await conn.fetchrow(
            "SELECT service_id, consultant_id, lower(period) AS start FROM bookings WHERE id = $1",
            scene.booking_id,
        )
    assert held is not None
    start = held["start"].strftime("%Y-%m-%dT%H:%M:%SZ")
    await tab.goto(
        f"/spoke/book?service_id={held['service_id']}&consultant_id={held['consultant_id']}"
        f"&start={start}"
    )
    await expect(tab.locator("[data-closed]")).to_contain_text(
        "Another booking already holds this time."
    )
    await expect(tab.locator(".nearest-times a").first).to_be_visible()
    await look("closed-time")

    await tab.goto(f"/spoke/bookings/{scene.booking_id}")
    await tab.locator("#f-start").select_option(index=1)
    await tab.get_by_role("button", name="Reschedule").click()
    await expect(tab.locator(".moved-from")).to_contain_text("Moved from")
    await look("moved")

    await tab.get_by_label("Reason for cancelling").fill("The patient moved to another clinic")
    await tab.get_by_role("button", name="Cancel the session…").click()
    await expect(tab.locator("details.confirm[open]")).to_contain_text("cannot be undone")
    await look("cancel-question")

    await tab.get_by_role("button", name="Yes, cancel the session").click()
    await expect(tab.get_by_role("link", name="Book another time")).to_be_visible()
    await look("cancelled")

    assert {name: s for name, s in seen.items() if s} == {}
