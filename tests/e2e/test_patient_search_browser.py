"""In Chromium, on a 390 px phone: the booking page shows the clinic's matching patients as
the scheduler types (no Enter, no new page), a match is used for the slot, and the pages with
matches and with possible duplicates pass axe-core and fit the phone."""

from __future__ import annotations

import re
from datetime import time
from urllib.parse import urlencode

import pytest
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import sign_in
from tests.e2e.fit import assert_fits
from tests.factories import Network

pytestmark = pytest.mark.slow


async def test_typing_part_of_a_name_shows_the_matches_and_one_is_used_for_the_slot(
    phone: Page, network: Network
) -> None:
    video = await network.service(name="Video visit", duration_minutes=60)
    consultant = await network.consultant([video], hours=((0, time(9), time(12)),))
    spoke = await network.spoke(timezone="America/New_York")
    nunez = await network.patient(spoke, family_name="Núñez")
    quimby = await network.patient(spoke, family_name="Quimby")
    theirs = await network.spoke()
    await network.patient(theirs, family_name="Nunez-Elsewhere")
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(phone, email, password, "/spoke")
    slot = {"service_id": video.id, "consultant_id": consultant.id, "start": "2027-03-08T17:00:00Z"}
    await phone.goto(f"/spoke/book?{urlencode(slot)}")
    book_url = phone.url

    search = phone.get_by_label("Find a patient by MRN, name or date of birth")
    await search.press_sequentially("nun", delay=50)

    matches = phone.locator("#patient-matches")
    await expect(matches).to_contain_text("1 patient matches nun")
    await expect(matches.get_by_role("link")).to_have_text([f"Núñez, {nunez.given_name}"])
    assert phone.url == book_url  # shown where the scheduler types, no page was loaded
    await assert_fits(phone, "spoke-patient-search-phone")

    await search.fill("")
    await search.press_sequentially("quim", delay=50)
    await expect(matches.get_by_role("link")).to_have_text([f"Quimby, {quimby.given_name}"])

    await search.fill("")
    await search.press_sequentially("NÚÑ", delay=50)
    await matches.get_by_role("link", name=f"Núñez, {nunez.given_name}").click()
    await expect(phone.locator("#chosen-patient")).to_contain_text("Núñez")
    await expect(phone.get_by_role("button", name="Book Mon 8 Mar 2027, 12:00")).to_be_visible()


async def test_a_possible_duplicate_asks_is_this_the_same_person_on_a_phone(
    phone: Page, network: Network
) -> None:
    video = await network.service(name="Video visit", duration_minutes=60)
    consultant = await network.consultant([video], hours=((0, time(9), time(12)),))
    spoke = await network.spoke(timezone="America/New_York", state="VT")
    known = await network.patient(spoke, family_name="Fictus")
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(phone, email, password, "/spoke")
    slot = {"service_id": video.id, "consultant_id": consultant.id, "start": "2027-03-08T17:00:00Z"}
    await phone.goto(f"/spoke/book?{urlencode(slot)}")

    await phone.get_by_label("MRN", exact=True).fill("NEW-1")
    await phone.get_by_label("Date of birth", exact=True).fill("1980-01-01")
    await phone.get_by_label("Given name", exact=True).fill(known.given_name.upper())
    await phone.get_by_label("Family name", exact=True).fill("fictus")
    await phone.get_by_role("button", name="Add the patient").click()

    await expect(phone.get_by_role("heading", name="Is this the same person?")).to_be_visible()
    await assert_fits(phone, "spoke-patient-duplicate-phone")
    use = phone.get_by_role(
        "link", name=re.compile(f"^Use this patient.*Fictus, {known.given_name}")
    )
    await use.click()
    await expect(phone.locator("#chosen-patient")).to_contain_text("Fictus")
