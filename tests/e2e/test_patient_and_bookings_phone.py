"""The patient page and the clinic's bookings list on a 390 px phone: nothing scrolls sideways,
axe-core finds no WCAG A/AA violation, and a patient's name leads from a booking to their page."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from tests.e2e.axe import axe_script, violations
from tests.e2e.clinic_scene import LONG_FAMILY, busy_clinic, sign_in
from tests.e2e.conftest import answer_code_prompts, screenshot
from tests.e2e.test_phone_width import OVERFLOW
from tests.factories import Network

pytestmark = pytest.mark.slow


@pytest.fixture
async def small_screen(browser: Browser, live: TestServer) -> AsyncIterator[Page]:
    """A fresh tab the size of a phone (390 px wide), pointed at the live app."""
    context = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"),
        viewport={"width": 390, "height": 844},
        is_mobile=True,
        bypass_csp=True,  # lets axe's script in
    )
    tab = await context.new_page()
    tab.set_default_timeout(10_000)
    await answer_code_prompts(tab, live.app)
    yield tab
    await context.close()


async def test_the_patient_page_and_the_bookings_list_fit_a_phone_and_pass_axe(
    small_screen: Page, network: Network, live: TestServer
) -> None:
    phone = small_screen
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(phone, email, password, f"/spoke/bookings/{scene.booking_id}")

    await phone.get_by_role("link", name=LONG_FAMILY).click()
    await expect(phone.get_by_role("heading", level=1)).to_contain_text(LONG_FAMILY)
    patient_page = phone.url.removeprefix(str(live.make_url("/")).rstrip("/"))
    await expect(phone.get_by_role("heading", name="Upcoming sessions")).to_be_visible()
    await expect(phone.get_by_role("link", name="Book a session")).to_be_visible()
    await expect(phone.locator("#notes + ul a")).to_have_count(1)

    axe = axe_script()
    too_wide, problems = {}, {}
    for name, path in (
        ("patient", patient_page),
        ("bookings", "/spoke/bookings"),
        ("bookings-cancelled", "/spoke/bookings?status=cancelled"),
        ("bookings-refused", "/spoke/bookings?from_date=2027-03-08&to_date=2027-03-01"),
    ):
        await phone.goto(path)
        measured = await phone.evaluate(OVERFLOW)
        if measured["scroll"] > measured["client"]:
            too_wide[path] = measured
        if found := await violations(phone, axe):
            problems[path] = found
        await screenshot(phone, f"phone-{name}")
    assert not too_wide, too_wide
    assert not problems, problems


async def test_the_bookings_list_filters_by_patient_and_leads_to_the_patient(
    small_screen: Page, network: Network, live: TestServer
) -> None:
    phone = small_screen
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
