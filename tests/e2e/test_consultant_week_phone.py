"""My week with sessions, time off and extra hours: one table whose columns line up on a
desktop, cards on a 390 px phone with nothing scrolling sideways, and no axe violation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from scheduling import bookings
from scheduling import store as scheduling_store
from scheduling.store import ExceptionRow
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.e2e.axe import axe_script, violations
from tests.e2e.clinic_scene import sign_in
from tests.e2e.conftest import answer_code_prompts, screenshot
from tests.factories import Clock, Network

pytestmark = pytest.mark.slow
CONFERENCE = "Addiction medicine conference, Sacramento"
WIDTHS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"


async def tab(browser: Browser, live: TestServer, width: int) -> Page:
    """A tab of the given width on the live app (axe's script let in past the CSP)."""
    context = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"),
        viewport={"width": width, "height": 900},
        is_mobile=width < 500,
        bypass_csp=True,
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await answer_code_prompts(page, live.app)
    return page


@pytest.fixture
async def week_of_a_consultant(network: Network, clock: Clock) -> AsyncIterator[tuple[str, str]]:
    """A consultant's sign-in: two Monday sessions, Tuesday-Wednesday off, Saturday extra."""
    video = await network.service(name="Video visit: MOUD management", duration_minutes=30)
    consultant = await network.consultant([video], hours=((0, time(9), time(12)),))
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Okafor-Lindqvist")
    clinic = Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)
    async with network.pool.acquire() as conn, conn.transaction():
        for hour in (17, 18):  # Monday 09:00 and 10:00 in Los Angeles
            await bookings.book(
                conn,
                spoke.id,
                Trail(clinic.actor),
                bookings.NewBooking(
                    video.id, consultant.id, patient.id, datetime(2027, 3, 1, hour, tzinfo=UTC)
                ),
                now=clock.now,
                video_url_template=network.settings.video_url_template,
            )
        rules, _ = await scheduling_store.get_availability(conn, consultant.id)
        await scheduling_store.replace_availability(
            conn,
            consultant.id,
            rules,
            [
                ExceptionRow(
                    "time_off",
                    datetime(2027, 3, 2, 21, tzinfo=UTC),
                    datetime(2027, 3, 4, 1, tzinfo=UTC),
                    None,
                    "Addiction medicine conference, Sacramento",
                ),
                ExceptionRow(
                    "extra_hours",
                    datetime(2027, 3, 6, 17, tzinfo=UTC),
                    datetime(2027, 3, 6, 19, tzinfo=UTC),
                    None,
                    "",
                ),
            ],
        )
    yield await network.user("consultant", consultant_id=consultant.id)


async def test_my_week_lines_up_on_a_desktop_and_fits_a_phone(
    browser: Browser, live: TestServer, week_of_a_consultant: tuple[str, str]
) -> None:
    axe = axe_script()
    desktop = await tab(browser, live, 1024)
    await sign_in(desktop, *week_of_a_consultant, "/hub")
    await expect(desktop.get_by_text(CONFERENCE).first).to_be_visible()
    time_cells = desktop.locator("table.week-sessions tbody tr:not(.day-head) > td:nth-child(2)")
    lefts = {
        round((await cell.bounding_box() or {"x": -1})["x"]) for cell in await time_cells.all()
    }
    assert len(lefts) == 1, lefts  # one column, whatever the day
    assert not await violations(desktop, axe)
    await screenshot(desktop, "consultant-week-time-off")
    await desktop.context.close()

    phone = await tab(browser, live, 390)
    await sign_in(phone, *week_of_a_consultant, "/hub")
    scroll, client = await phone.evaluate(WIDTHS)
    assert scroll <= client, (scroll, client)
    await expect(phone.get_by_text(CONFERENCE).first).to_be_visible()
    assert not await violations(phone, axe)
    await screenshot(phone, "phone-consultant-week-time-off")
    await phone.context.close()
