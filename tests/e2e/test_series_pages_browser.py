"""Book a series in Chromium on a 390 px phone, without JavaScript's help: from a time on the
find page, the patient by MRN, every session shown before booking, a session not open with
times to pick, one confirmation, then the series page and "cancel this and all later".
Every page fits the phone and has no WCAG 2.1 A/AA violation (axe-core)."""

from __future__ import annotations

from datetime import time

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import LONG_CONSULTANT, LONG_FAMILY, sign_in
from tests.e2e.fit import assert_fits
from tests.factories import Network, booking, live_client

pytestmark = pytest.mark.slow


@pytest.fixture
async def phone(phone: Page) -> Page:
    """The 390 px tab with JavaScript's own scripts turned off: the forms must work without
    them (axe still runs: it is added to the page, not fetched from /static)."""
    await phone.context.route("**/static/*.js", lambda route: route.abort())
    return phone


async def test_a_series_is_planned_booked_and_cut_short_on_a_phone(
    phone: Page, network: Network, live: TestServer, pool: asyncpg.Pool
) -> None:
    counseling = await network.service(name="Counseling", duration_minutes=50)
    weekdays = tuple((d, time(9), time(12)) for d in range(5))
    counselor = await network.consultant([counseling], hours=weekdays, role="telehealth_counselor")
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE consultants SET name = $1 WHERE id = $2", LONG_CONSULTANT, counselor.id
        )
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name=LONG_FAMILY)
    async with live_client(live) as http:  # the clinic already holds session 3's time
        await booking(
            http,
            spoke,
            service_id=counseling.id,
            consultant_id=counselor.id,
            patient_id=patient.id,
            start="2027-03-22T16:00:00Z",  # Monday 22 March, 12:00 in New York
        )
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(phone, email, password, "/spoke")

    await phone.goto(f"/spoke/find?service_id={counseling.id}&week=2027-03-08")
    await phone.get_by_role("link", name="Book a series from Monday 8 March at 12:00").click()
    await phone.get_by_label("Find the patient by MRN").fill(patient.mrn)
    await phone.get_by_role("button", name="Find").click()
    await phone.get_by_role("link", name=f"{LONG_FAMILY}, {patient.given_name}").click()
    await expect(phone.get_by_label("First session")).to_have_value("2027-03-08T12:00")
    await assert_fits(phone, "phone-series-form", every_element=True)

    await phone.get_by_label("Number of sessions").fill("6")
    await phone.get_by_role("button", name="Show every session").click()

    sessions = phone.locator("ol.sessions > li")
    await expect(sessions).to_have_count(6)
    await expect(sessions.nth(0)).to_contain_text("Session 1: Mon 8 Mar 2027, 12:00")
    await expect(sessions.nth(5)).to_contain_text("Session 6: Mon 12 Apr 2027, 12:00")
    not_open = phone.get_by_role("group", name="Session 3: Mon 22 Mar 2027, 12:00 is not open")
    await expect(not_open).to_contain_text("Another booking already holds this time.")
    await assert_fits(phone, "phone-series-plan", every_element=True)

    await not_open.get_by_role("radio").first.check()
    await phone.get_by_role("button", name="Book all 6 sessions").click()

    await expect(phone.locator("h1")).to_have_text("Counseling: a series of 6")
    await expect(phone.get_by_role("status")).to_contain_text("Booked 6 sessions")
    await expect(phone.locator("ol.sessions .tag.booked")).to_have_count(6)
    await assert_fits(phone, "phone-series-series", every_element=True)

    await phone.get_by_role("link", name="Cancel this and all later (from session 4)").click()
    await phone.get_by_label("Reason for cancelling").fill("Discharged to primary care")
    await phone.get_by_role("button", name="Cancel this and all later…").click()
    question = phone.get_by_role("group", name="Cancel the sessions")
    await expect(question).to_contain_text("This cancels 3 sessions")
    await assert_fits(phone, "phone-series-cancel-question", every_element=True)
    await question.get_by_role("button", name="Yes, cancel the sessions").click()

    await expect(phone.locator("ol.sessions .tag.cancelled")).to_have_count(3)
    await expect(phone.locator("ol.sessions .tag.booked")).to_have_count(3)
    async with pool.acquire() as conn:
        stored = await conn.fetch(
            "SELECT series_position, status FROM bookings WHERE series_id IS NOT NULL"
            " ORDER BY series_position"
        )
    assert [r["status"] for r in stored] == ["booked"] * 3 + ["cancelled"] * 3


async def test_book_the_next_one_fits_a_phone_and_books_a_week_later(
    phone: Page, network: Network, live: TestServer, pool: asyncpg.Pool
) -> None:
    counseling = await network.service(name="Counseling", duration_minutes=50)
    counselor = await network.consultant(
        [counseling], hours=((0, time(9), time(12)),), role="telehealth_counselor"
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name=LONG_FAMILY)
    async with live_client(live) as http:
        session = await booking(
            http,
            spoke,
            service_id=counseling.id,
            consultant_id=counselor.id,
            patient_id=patient.id,
            start="2027-03-01T17:00:00Z",  # Monday 09:00 in Los Angeles
        )
    email, password = await network.user("consultant", consultant_id=counselor.id)
    await sign_in(phone, email, password, f"/hub/bookings/{session['id']}/note")

    await phone.get_by_role("button", name="One week later").click()
    await expect(phone.locator("h1")).to_contain_text("Book the next session")
    await expect(phone.get_by_role("radio", name="Mon 8 Mar 2027, 09:00")).to_be_checked()
    await assert_fits(phone, "phone-series-book-next", every_element=True)
    await phone.get_by_role("button", name="Book the next session").click()

    await expect(phone.get_by_role("status")).to_contain_text(
        "Booked the next session for Mon 8 Mar 2027, 09:00."
    )
    async with pool.acquire() as conn:
        count = await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'")
    assert count == 2
