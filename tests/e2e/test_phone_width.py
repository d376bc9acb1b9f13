"""On a 390 px phone every page fits the screen (the clinic's, and the hub's and coordinator's
too): nothing scrolls sideways, and the week grid is a day-by-day list there."""

from __future__ import annotations

import itertools
import re

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import (
    LONG_CONSULTANT,
    busy_clinic,
    consultant_pages,
    coordinator_pages,
    scheduler_pages,
    sign_in,
)
from tests.e2e.conftest import SCREENSHOTS, screenshot
from tests.e2e.fit import misfit_pages
from tests.factories import Network

pytestmark = pytest.mark.slow


def _shot_name(path: str) -> str:
    """A screenshot's name for a page: its path without ids or query, - for /."""
    return re.sub(r"[0-9a-f-]{36}", "id", path.strip("/").split("?")[0]).replace("/", "-")


async def test_every_scheduler_page_fits_a_390_px_phone_without_sideways_scrolling(
    phone: Page, network: Network, live: TestServer
) -> None:
    """No page is wider than the phone, and none has a WCAG A/AA violation as laid out there."""
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(phone, email, password, "/spoke")

    paths = await scheduler_pages(phone, scene)
    problems = await misfit_pages(phone, [(f"phone-{_shot_name(path)}", path) for path in paths])
    assert not problems, problems


async def test_the_consultant_and_coordinator_pages_fit_a_phone_too(
    phone: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    too_wide: dict[str, object] = {}
    for user, pages in (
        (
            await network.user("consultant", consultant_id=scene.consultant_id),
            consultant_pages(scene),
        ),
        (await network.user("hub_coordinator"), coordinator_pages(scene)),
    ):
        await phone.context.clear_cookies()
        await sign_in(phone, *user, pages[0])
        too_wide |= await misfit_pages(phone, [(None, path) for path in pages], axe=False)
    await screenshot(phone, "phone-coordinator-deliveries")
    assert not too_wide, too_wide


async def test_the_week_grid_is_a_day_by_day_list_on_a_phone(
    phone: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(phone, email, password, "/spoke/find")

    # A day's times stack under its heading at full width, the consultant's name unbroken.
    slot = phone.get_by_role("link", name=f"Book Wednesday 3 March at 11:00 with {LONG_CONSULTANT}")
    await expect(slot).to_be_visible()
    box = await slot.bounding_box()
    assert box is not None and box["width"] > 300, box
    await expect(slot).to_contain_text(LONG_CONSULTANT)
    days = [await d.bounding_box() for d in await phone.locator("table.week td").all()]
    assert len(days) == 7
    for above, below in itertools.pairwise(days):
        assert above and below and below["y"] >= above["y"] + above["height"] - 1, days
    await expect(phone.locator("table.week td").nth(2)).to_have_attribute(
        "data-label", "Wednesday 3 March"
    )
    await slot.scroll_into_view_if_needed()
    await phone.screenshot(path=str(SCREENSHOTS / "phone-find-list.png"))
