"""The clinic's group pages in Chromium on a 390 px phone: find a group for a patient, enrol
them, excuse a session, withdraw (asked first), and a full group's waitlist. Every page fits
the phone without sideways scrolling and has no WCAG 2.1 A/AA violation (axe-core)."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import LONG_FAMILY, sign_in
from tests.e2e.fit import misfits
from tests.factories import Clock, Network
from tests.http.group_pages.support import FIRST, enrol, make_group

pytestmark = pytest.mark.slow


async def test_the_group_pages_work_and_fit_a_390_px_phone(
    phone: Page, network: Network, live: TestServer, clock: Clock, pool: asyncpg.Pool
) -> None:
    service = await network.service(
        kind="group_session",
        name="Group counseling",
        duration_minutes=60,
        roles=["telehealth_counselor"],
    )
    counselor = await network.consultant(
        [service], timezone="America/New_York", states=("VT",), role="telehealth_counselor"
    )
    mine, theirs = await network.spoke(), await network.spoke()
    patient = await network.patient(mine, family_name=LONG_FAMILY)
    title = "MOUD support group for people in early recovery · Tuesdays 18:00"
    await make_group(network, clock, service, counselor, capacity=3, count=4, title=title)
    full = await make_group(
        network,
        clock,
        service,
        counselor,
        capacity=2,
        count=2,
        title="Relapse prevention",
        first=FIRST.replace(hour=20),
    )
    for n in range(2):
        other = await network.patient(theirs, family_name=f"Other{n}")
        await enrol(network, clock, theirs, other, full)
    email, password = await network.user("spoke_scheduler", spoke_id=mine.id)
    await sign_in(phone, email, password, "/spoke")
    problems: dict[str, Any] = {}

    await phone.goto(f"/spoke/patients/{patient.id}")
    problems["patient"] = await misfits(phone, every_element=True, shot="phone-group-patient")
    await phone.get_by_role("link", name="Find a group for this patient").click()
    await expect(phone.locator("ul.groups")).to_contain_text("3 of 3 seats open")
    problems["find"] = await misfits(phone, every_element=True, shot="phone-groups-find")

    await phone.get_by_role("link", name=title).click()
    await phone.get_by_role("button", name="Enrol").click()
    await expect(phone.get_by_role("status")).to_contain_text("Enrolled.")
    await expect(phone.locator("ol.sessions")).to_contain_text("1 of 3 seats taken")
    problems["group"] = await misfits(phone, every_element=True, shot="phone-group")

    await phone.get_by_label("Will miss session").select_option("2")
    await phone.get_by_role("button", name="Excuse").click()
    await expect(phone.locator("ul.seats")).to_contain_text("Excused from session 2")

    await phone.get_by_label("Withdraw from session").select_option("3")
    await phone.get_by_role("button", name="Withdraw").click()
    await expect(phone.get_by_text("This frees their seat from session 3 on")).to_be_visible()
    problems["withdraw"] = await misfits(phone, every_element=True, shot="phone-group-withdraw")
    await phone.get_by_role("button", name="Yes, withdraw").click()
    await expect(phone.locator("ul.seats")).to_contain_text("withdrawn from session 3")

    await phone.goto(f"/spoke/groups/{full.id}?patient_id={patient.id}")
    await phone.get_by_role("button", name="Put on the waitlist").click()
    await expect(phone.locator("ul.seats")).to_contain_text("waiting since")
    problems["waitlist"] = await misfits(phone, every_element=True, shot="phone-group-waitlist")

    assert {page: found for page, found in problems.items() if found} == {}
