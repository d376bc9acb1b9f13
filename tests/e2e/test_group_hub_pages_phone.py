"""The hub's group pages on a 390 px phone: the counselor records attendance with a few taps
(a row of choices per patient, one Save) and signs a patient's note from the same screen; the
coordinator's groups list, create form and group page fit too. Nothing scrolls sideways and
axe-core finds no WCAG A/AA violation on any of them, refusals included."""

from __future__ import annotations

import pytest
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import sign_in
from tests.e2e.conftest import screenshot
from tests.e2e.fit import misfits
from tests.factories import Network
from tests.http.group_hub.support import NOTE, STARTED, group

pytestmark = pytest.mark.slow
TITLE = "MOUD support group · Mondays 06:00 with a long title that must wrap on a phone"


async def test_attendance_and_a_patients_note_on_a_phone(phone: Page, network: Network) -> None:
    g = await group(
        network,
        first_start=STARTED,
        title=TITLE,
        family_names=("Okafor-Lindqvist-Abernathy", "Moreau", "Tanaka", "Nakamura-Fitzgerald"),
    )
    await sign_in(phone, *await network.user("consultant", consultant_id=g.counselor.id), "/hub")
    await phone.get_by_role("link", name="My groups").click()
    assert await misfits(phone) == {}
    await phone.get_by_role("link", name=TITLE, exact=False).first.click()
    await expect(phone.get_by_role("heading", name="Roster and attendance")).to_be_visible()
    assert await misfits(phone) == {}

    save = phone.get_by_role("button", name="Save attendance")
    await save.click()  # nothing chosen: said, at 390 px, and axe-clean
    await expect(
        phone.get_by_text("Choose attended, no-show or excused for a patient.").first
    ).to_be_visible()
    assert await misfits(phone) == {}

    first, second = g.patients[0], g.patients[1]
    for patient, choice in ((first, "Attended"), (second, "No-show")):
        row = phone.get_by_role("group", name=f"{patient.family_name}, {patient.given_name}")
        await row.get_by_label(choice).check()
    await save.click()
    await expect(phone.get_by_text("Attendance saved for 2 of 4 patients.")).to_be_visible()
    await screenshot(phone, "hub-group-occurrence-phone")
    assert await misfits(phone) == {}

    note = phone.locator("section.patient-note")
    await expect(note).to_have_count(1)
    await note.get_by_role("button", name="Sign and send to", exact=False).click()
    await expect(phone.get_by_text("Write the assessment before signing.").first).to_be_visible()
    assert await misfits(phone) == {}
    note = phone.locator("section.patient-note")
    await note.get_by_label("Assessment").fill(NOTE["sections.assessment"])
    await note.get_by_label("Therapy").fill(NOTE["sections.recommendations.therapy"])
    await note.get_by_label("Follow-up").fill(NOTE["sections.follow_up"])
    await note.get_by_role("button", name="Sign and send to", exact=False).click()
    await expect(
        phone.get_by_text("Note version 1 is signed and on its way to the clinic.")
    ).to_be_visible()
    assert await misfits(phone) == {}


async def test_the_coordinators_group_pages_fit_a_phone(phone: Page, network: Network) -> None:
    g = await group(network, first_start=STARTED)
    await sign_in(phone, *await network.user("hub_coordinator"), "/coordinator")
    await phone.get_by_role("link", name="Groups").click()
    await expect(phone.get_by_role("heading", name="Create a group")).to_be_visible()
    assert await misfits(phone) == {}
    await phone.get_by_role("button", name="Create the group").click()  # all blank: refused
    await expect(phone.get_by_text("There is a problem")).to_be_visible()
    assert await misfits(phone) == {}

    await phone.goto(f"/coordinator/groups/{g.id}")
    await expect(phone.get_by_role("heading", name="Cancel from a session on")).to_be_visible()
    await phone.get_by_text("Cancel sessions…").click()
    await screenshot(phone, "coordinator-group-phone")
    assert await misfits(phone) == {}
