"""My week with sessions, time off and extra hours: one table whose columns line up on a
desktop, cards on a 390 px phone with nothing scrolling sideways, and no axe violation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, time

import pytest
from playwright.async_api import expect

from scheduling import bookings
from scheduling import store as scheduling_store
from scheduling.store import ExceptionRow
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.e2e.axe import axe_script, violations
from tests.e2e.clinic_scene import sign_in
from tests.e2e.conftest import PHONE_WIDTH, TabOf, screenshot
from tests.e2e.fit import assert_fits
from tests.factories import Clock, Network

pytestmark = pytest.mark.slow
CONFERENCE = "Addiction medicine conference, Sacramento"


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
    tab_of: TabOf, week_of_a_consultant: tuple[str, str]
) -> None:
    desktop = await tab_of(1024, height=900)
    await sign_in(desktop, *week_of_a_consultant, "/hub")
    await expect(desktop.get_by_text(CONFERENCE).first).to_be_visible()
    time_cells = desktop.locator("table.week-sessions tbody tr:not(.day-head) > td:nth-child(2)")
    lefts = {
        round((await cell.bounding_box() or {"x": -1})["x"]) for cell in await time_cells.all()
    }
    assert len(lefts) == 1, lefts  # one column, whatever the day
    assert not await violations(desktop, axe_script())
    await screenshot(desktop, "consultant-week-time-off")

    phone = await tab_of(PHONE_WIDTH, height=900)
    await sign_in(phone, *week_of_a_consultant, "/hub")
    await expect(phone.get_by_text(CONFERENCE).first).to_be_visible()
    await assert_fits(phone, "phone-consultant-week-time-off")
