"""In a real browser: a hub consultant answers an e-consult and signs the note."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from playwright.async_api import Page, expect

from consults import econsults
from scheduling import bookings
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.e2e.conftest import screenshot
from tests.factories import Clock, Network

pytestmark = pytest.mark.slow

CONTEXT = {
    "current_moud": {"medication": "buprenorphine_naloxone", "daily_dose_mg": 16},
    "phq9": 17,
    "gad7": 12,
    "co_occurring_diagnoses": ["Major depressive disorder, moderate"],
    "urine_drug_screen": {
        "collected_on": "2027-02-25",
        "results": {"buprenorphine": "positive", "fentanyl": "negative"},
    },
    "pain": {"present": True, "score": 4, "notes": "Knee osteoarthritis"},
    "psychosocial_needs": ["transportation"],
    "family_involvement": "Partner supportive, attends some visits",
}


async def seed(network: Network, clock: Clock) -> tuple[str, str, str]:
    """An e-consult and a video session for one consultant; their sign-in and the patient."""
    econsult_service = await network.service(
        kind="econsult",
        name="E-consult: OUD and co-occurring conditions",
        duration_minutes=30,
        turnaround_hours=8,
        roles=["psychiatric_consultant"],
    )
    video = await network.service(name="Video visit: MOUD management", duration_minutes=30)
    consultant = await network.consultant(
        [econsult_service, video],
        hours=((0, time(9), time(12)), (2, time(13), time(17))),
        timezone="America/Los_Angeles",
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Okafor")
    email, password = await network.user("consultant", consultant_id=consultant.id)
    clinic = Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)
    trail = Trail(clinic.actor)
    async with network.pool.acquire() as conn, conn.transaction():
        for hour in (17, 18):  # Monday 09:00 and 10:00 in Los Angeles
            await bookings.book(
                conn,
                spoke.id,
                trail,
                bookings.NewBooking(
                    video.id, consultant.id, patient.id, datetime(2027, 3, 1, hour, tzinfo=UTC)
                ),
                now=clock.now,
                video_url_template=network.settings.video_url_template,
            )
        asked = await econsults.submit(
            conn,
            clinic,
            trail,
            econsults.NewEconsult(
                patient_id=patient.id,
                service_id=econsult_service.id,
                referring_clinician="Dr. Lena Park",
                question="Persistent depressive symptoms on buprenorphine 16 mg: "
                "SSRI choice and dose changes?",
                clinical_context=CONTEXT,
                urgency="routine",
            ),
            settings=network.settings,
            now=clock.now - timedelta(days=3),
        )
    assert asked.consultant_id == consultant.id
    return email, password, patient.family_name


async def test_a_consultant_answers_an_econsult_and_signs_the_note(
    page: Page, network: Network, clock: Clock
) -> None:
    email, password, family_name = await seed(network, clock)
    clock.now = datetime(2027, 3, 1, 17, 45, tzinfo=UTC)  # the first session has begun

    await page.goto("/hub/worklist")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("E-consult worklist")
    await expect(page.locator("tr.is-overdue")).to_contain_text("overdue")
    await screenshot(page, "consultant-worklist")

    await page.get_by_role("link", name=family_name).click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text(f"E-consult: {family_name}")
    await expect(page.locator("dl.context")).to_contain_text("17 of 27: moderately severe")
    await screenshot(page, "consultant-case")

    await page.get_by_role("button", name="Sign and send to the clinic").click()
    await expect(page.get_by_role("alert")).to_contain_text("Write the assessment before signing")
    await expect(page.get_by_role("alert")).to_be_focused()
    await page.get_by_label("Assessment").fill(
        "OUD in early remission on buprenorphine/naloxone; depression, moderate."
    )
    await page.get_by_label("MOUD").fill("Continue buprenorphine/naloxone 16 mg daily.")
    await page.get_by_label("Medications").fill("Start sertraline 25 mg, increase to 50 mg.")
    await page.get_by_label("Follow-up").fill("Repeat PHQ-9 in 4 weeks; re-consult if above 10.")
    await page.get_by_role("button", name="Sign and send to the clinic").click()

    await expect(page.get_by_role("status")).to_contain_text("Note version 1 is signed")
    signed = page.locator("article.signed-note")
    await expect(signed.get_by_role("heading", name="Version 1")).to_be_visible()
    await expect(signed).to_contain_text("signed")
    await expect(signed).to_contain_text("Start sertraline 25 mg")
    await expect(page.get_by_role("button", name="Write an amendment")).to_be_visible()
    await expect(page.get_by_label("Assessment")).to_have_count(0)  # final: nothing to edit
    await page.locator("#note").scroll_into_view_if_needed()
    await screenshot(page, "consultant-note-signed")

    await page.get_by_role("link", name="My week").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("My week")
    await expect(page.get_by_role("button", name="Completed").first).to_be_visible()
    await screenshot(page, "consultant-week")

    await page.get_by_role("link", name="Availability").click()
    await expect(page.get_by_label("Monday, time range 1: From")).to_have_value("09:00")
    await screenshot(page, "consultant-availability")

    await page.get_by_role("link", name="Calendar feed").click()
    await page.get_by_role("button", name="Create feed URL").click()
    await expect(page.get_by_role("textbox", name="Feed URL")).to_have_value(
        re.compile(r"^http://telehub\.test/feeds/consultants/[A-Za-z0-9_-]{40,}\.ics$")
    )
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await page.locator("summary", has_text="Rotate URL").click()  # asks first
    await expect(page.get_by_role("button", name="Yes, rotate URL")).to_be_visible()
    await screenshot(page, "consultant-feed")


async def test_the_hours_editor_at_tablet_width_shows_what_to_fix_and_keeps_what_was_typed(
    page: Page, network: Network, clock: Clock
) -> None:
    email, password, _ = await seed(network, clock)
    await page.set_viewport_size({"width": 768, "height": 1000})
    await page.goto("/hub/availability")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()

    await page.get_by_label("Tuesday, time range 1: From").fill("14:00")
    await page.get_by_label("Tuesday, time range 1: To").fill("09:00")
    await page.get_by_role("button", name="Save availability").click()

    alert = page.get_by_role("alert")
    await expect(alert).to_be_focused()
    await expect(alert).to_contain_text("must be after start")
    await expect(page.get_by_label("Tuesday, time range 1: To")).to_have_value("09:00")
    await expect(page.get_by_label("Tuesday, time range 1: To")).to_have_attribute(
        "aria-invalid", "true"
    )
    await screenshot(page, "consultant-availability-error")
