"""The clinic's waitlist on a 390 px phone: joined from the find page, the list with a time
that opened and its leave question, a refused form, and the dashboard's 'Times that opened
for you' all fit the screen (nothing scrolls sideways) and axe-core finds no WCAG A/AA
violation on any of them."""

from __future__ import annotations

from datetime import time

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import sign_in
from tests.e2e.fit import misfits
from tests.factories import Network, booking, live_client

pytestmark = pytest.mark.slow


async def test_the_waitlist_pages_fit_a_phone_and_pass_axe(
    phone: Page, network: Network, live: TestServer
) -> None:
    video = await network.service(name="MOUD and chronic pain video visit")
    consultant = await network.consultant(
        [video], hours=((0, time(9), time(12)),), role="psychiatric_consultant"
    )
    other = await network.spoke()
    other_patient = await network.patient(other)
    clinic = await network.spoke()
    patient = await network.patient(clinic, family_name="Featherstonehaugh-Montgomery")
    async with live_client(live) as http:
        booked = await booking(
            http,
            other,
            service_id=video.id,
            consultant_id=consultant.id,
            patient_id=other_patient.id,
            start="2027-03-08T17:00:00Z",
        )
        joined = await http.post(
            "/api/v1/waitlist",
            json={
                "service_id": video.id,
                "consultant_id": consultant.id,
                "patient_state": "VT",
                "latest_date": "2027-03-10",
                "patient_id": str(patient.id),
            },
            headers=clinic.headers,
        )
        assert joined.status == 201
        cancelled = await http.post(
            f"/api/v1/bookings/{booked['id']}/cancel",
            json={"reason": "Patient asked"},
            headers=other.headers,
        )
        assert cancelled.status == 200

    email, password = await network.user("spoke_scheduler", spoke_id=clinic.id)
    await sign_in(phone, email, password, f"/spoke/find?service_id={video.id}")
    await phone.get_by_role(
        "link", name="No time soon enough? Tell me when an earlier one opens"
    ).click()
    await expect(phone.get_by_role("heading", level=1)).to_have_text("Waitlist")
    await expect(phone.get_by_text("Time opened")).to_be_visible()

    # A second request, refused first (a date past), then joined.
    await phone.get_by_label("Latest date that will do").fill("2027-02-01")
    await phone.get_by_role("button", name="Join the waitlist").click()
    await expect(phone.get_by_role("alert")).to_contain_text("is in the past")
    found = {"refused": await misfits(phone, shot="phone-spoke-waitlist-refused")}
    await phone.get_by_label("Latest date that will do").fill("2027-03-31")
    await phone.get_by_role("button", name="Join the waitlist").click()
    await expect(phone.get_by_text("On the waitlist.")).to_be_visible()

    # Leaving asks first.
    await phone.locator("summary", has_text="Leave the waitlist").first.click()
    await expect(phone.get_by_role("button", name="Yes, leave the waitlist").first).to_be_visible()
    found["list"] = await misfits(phone, shot="phone-spoke-waitlist")

    await phone.goto("/spoke")
    await expect(phone.get_by_role("heading", name="Times that opened for you")).to_be_visible()
    await expect(phone.locator("#opened + ul li")).to_contain_text("Featherstonehaugh-Montgomery")
    found["dashboard"] = await misfits(phone, shot="phone-spoke-dashboard-opened")

    assert {k: v for k, v in found.items() if v} == {}
