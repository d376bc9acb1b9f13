"""The patient page and the clinic's bookings list on a 390 px phone: nothing scrolls sideways,
axe-core finds no WCAG A/AA violation, and a patient's name leads from a booking to their page."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import LONG_FAMILY, busy_clinic, sign_in
from tests.e2e.fit import misfit_pages
from tests.factories import Network

pytestmark = pytest.mark.slow


async def test_the_patient_page_and_the_bookings_list_fit_a_phone_and_pass_axe(
    phone: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(phone, email, password, f"/spoke/bookings/{scene.booking_id}")

    await phone.get_by_role("link", name=LONG_FAMILY).click()
    await expect(phone.get_by_role("heading", level=1)).to_contain_text(LONG_FAMILY)
    patient_page = phone.url.removeprefix(str(live.make_url("/")).rstrip("/"))
    await expect(phone.get_by_role("heading", name="Upcoming sessions")).to_be_visible()
    await expect(phone.get_by_role("link", name="Book a session")).to_be_visible()
    await expect(phone.locator("#notes + ul a")).to_have_count(1)

    problems = await misfit_pages(
        phone,
        [
            ("phone-patient", patient_page),
            ("phone-bookings", "/spoke/bookings"),
            ("phone-bookings-cancelled", "/spoke/bookings?status=cancelled"),
            ("phone-bookings-refused", "/spoke/bookings?from_date=2027-03-08&to_date=2027-03-01"),
        ],
    )
    assert not problems, problems


async def test_the_bookings_list_filters_by_patient_and_leads_to_the_patient(
    phone: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(phone, email, password, "/spoke/bookings")
    rows = phone.locator("main table tbody tr")
    await expect(rows).to_have_count(5)

    patient = phone.get_by_label("Patient")
    quimby = await patient.locator("option", has_text="Quimby").get_attribute("value")
    assert quimby
    await patient.select_option(quimby)
    await phone.get_by_role("button", name="Show bookings").click()

    await expect(rows).to_have_count(2)
    await expect(phone.get_by_label("Patient")).to_have_value(quimby)
    await rows.first.get_by_role("link", name="Quimby").click()
    await expect(phone.get_by_role("heading", level=1)).to_contain_text("Quimby")
