"""In a real browser: a clinic scheduler finds a time, books it, asks the hub, reads the answer."""

from __future__ import annotations

import re
from datetime import time

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.factories import Network, econsult, live_client, signed_note

pytestmark = pytest.mark.slow

TABLET = {"width": 768, "height": 1000}


async def sign_in_as_scheduler(page: Page, network: Network, spoke_id: int, path: str) -> None:
    """Open a clinic page, sign in on the form it sends us to, and land back on the page."""
    email, password = await network.user("spoke_scheduler", spoke_id=spoke_id)
    await page.goto(path)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(f"**{path}")


async def test_a_scheduler_finds_a_slot_books_it_for_a_patient_and_sees_it_everywhere(
    page: Page, network: Network
) -> None:
    video = await network.service(name="Video visit", duration_minutes=60)
    consultant = await network.consultant([video], timezone="America/Los_Angeles")
    spoke = await network.spoke(timezone="America/New_York")
    patient = await network.patient(spoke, family_name="Quimby")
    await sign_in_as_scheduler(page, network, spoke.id, "/spoke/find")

    await expect(page.get_by_role("heading", level=1)).to_have_text("Find a time")
    await expect(page.get_by_label("Service")).to_have_value(str(video.id))
    # The consultant's 09:00 in Los Angeles is 12:00 for this New York clinic.
    slot = page.get_by_role("link", name=f"Book Monday 1 March at 12:00 with {consultant.name}")
    await expect(slot).to_be_visible()
    await screenshot(page, "spoke-find")
    await page.set_viewport_size(TABLET)
    await expect(slot).to_be_in_viewport()  # seven days fit a tablet without sideways scrolling
    await screenshot(page, "spoke-find-tablet")
    await page.set_viewport_size({"width": 1024, "height": 900})
    await page.get_by_role("link", name="Next week").click()
    await expect(
        page.get_by_role("link", name=re.compile("Book Monday 8 March at 12:00"))
    ).to_be_visible()
    await page.get_by_role("link", name="Previous week").click()

    await slot.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Book a time")
    await expect(page.locator(".slot-summary")).to_contain_text("Mon 1 Mar 2027, 12:00\u201313:00")
    await page.get_by_label("Find a patient by MRN").fill(patient.mrn)
    await page.keyboard.press("Enter")
    await expect(page.locator("#chosen-patient")).to_contain_text("Quimby")
    await page.get_by_label("Reason for the session").fill("Buprenorphine follow-up")
    await screenshot(page, "spoke-book")
    await page.get_by_role("button", name="Book Mon 1 Mar 2027, 12:00").click()

    await expect(page.get_by_role("status")).to_have_text("Booked for Mon 1 Mar 2027, 12:00.")
    await expect(page.locator("dl.booking")).to_contain_text("Quimby")
    await expect(page.locator("dl.booking")).to_contain_text("Buprenorphine follow-up")
    await screenshot(page, "spoke-booking")
    await page.set_viewport_size(TABLET)
    await screenshot(page, "spoke-booking-tablet")
    await page.set_viewport_size({"width": 1024, "height": 900})

    await page.get_by_role("link", name="Dashboard").click()
    today = page.get_by_role("table").first
    await expect(today).to_contain_text("Mon 1 Mar 2027, 12:00")
    await expect(today).to_contain_text("Quimby")


async def test_the_econsult_form_works_from_the_keyboard_and_says_what_to_fix(
    page: Page, network: Network
) -> None:
    service = await network.service(
        kind="econsult", name="OUD e-consult", duration_minutes=30, turnaround_hours=48
    )
    await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Quimby")
    await sign_in_as_scheduler(page, network, spoke.id, "/spoke/econsults/new")
    await expect(page.get_by_role("heading", level=1)).to_contain_text("new e-consult")

    labels = [
        "Patient",
        "E-consult service",
        "Referring clinician",
        "Your question",
        "Routine",
        "Medication (optional)",
        "Daily dose (mg) (optional)",
        "PHQ-9 (depression) (optional)",
        "GAD-7 (anxiety) (optional)",
        "Co-occurring diagnoses (optional)",
        "Collected on (optional)",
        "Fentanyl (optional)",
        "Pain is present",
        "Pain score (optional)",
        "Housing",
        "Family involvement (optional)",
    ]
    for label in labels:
        await expect(page.get_by_label(label, exact=True)).to_be_visible()

    # Tab from the top of the page reaches every part of the template, in reading order.
    await page.get_by_label("Patient", exact=True).focus()
    await page.keyboard.press("Shift+Tab")
    reached: list[str] = []
    for _ in range(60):
        await page.keyboard.press("Tab")
        reached.append(
            await page.evaluate(
                "document.activeElement.id || document.activeElement.textContent.trim()"
            )
        )
    wanted = [
        "f-patient_id",
        "f-service_id",
        "f-referring_clinician",
        "f-question",
        "f-clinical_context-current_moud-medication",
        "f-clinical_context-phq9",
        "f-clinical_context-gad7",
        "f-clinical_context-co_occurring_diagnoses",
        "f-clinical_context-urine_drug_screen-collected_on",
        "f-clinical_context-urine_drug_screen-results-fentanyl",
        "f-clinical_context-pain-present",
        "f-clinical_context-pain-score",
    ]
    positions = [reached.index(w) for w in wanted]
    assert positions == sorted(positions), reached

    await page.get_by_label("Patient", exact=True).select_option(str(patient.id))
    await page.get_by_label("Referring clinician").fill("Dr. Lena Park, MD")
    await page.get_by_label("Your question").fill("Induction with ongoing fentanyl use?")
    await page.get_by_label("PHQ-9 (depression) (optional)").fill("30")
    await page.get_by_label("Housing").check()
    await screenshot(page, "spoke-econsult-form")
    await page.get_by_label("Referring clinician").press("Enter")  # submits, keyboard only

    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("PHQ-9: must be 27 or less")
    phq9 = page.get_by_label("PHQ-9 (depression) (optional)")
    await expect(phq9).to_have_value("30")
    await expect(phq9).to_have_attribute("aria-invalid", "true")
    await expect(page.get_by_label("Your question")).to_have_value(
        "Induction with ongoing fentanyl use?"
    )
    await expect(page.get_by_label("Housing")).to_be_checked()
    await screenshot(page, "spoke-econsult-error")

    await phq9.fill("18")
    await phq9.press("Enter")
    await expect(page.get_by_role("status")).to_contain_text("E-consult sent.")
    await expect(page.locator("dl.context")).to_contain_text("18 of 27")
    await screenshot(page, "spoke-econsult")


async def test_a_clinic_reads_acknowledges_and_prints_a_consult_note(
    page: Page, network: Network, live: TestServer
) -> None:
    service = await network.service(
        kind="econsult", name="OUD e-consult", duration_minutes=30, turnaround_hours=48
    )
    consultant = await network.consultant([service], hours=((0, time(9), time(12)),))
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Quimby")
    hub = network.consultant_headers(consultant.id)
    sections = {
        "assessment": "Severe opioid use disorder; chronic low back pain.",
        "recommendations": {
            "moud": "Buprenorphine/naloxone 16 mg daily, split dosing for pain.",
            "medications": "Stop tramadol.",
            "therapy": "Weekly CBT for chronic pain.",
            "referrals": "Physical therapy.",
        },
        "follow_up": "Re-consult in 4 weeks.",
        "visit_recommended": False,
    }
    async with live_client(live) as http:
        asked = await econsult(
            http,
            spoke,
            patient_id=patient.id,
            service_id=service.id,
            question="MOUD choice with chronic pain?",
        )
        await signed_note(http, hub, asked["id"], sections)
    await sign_in_as_scheduler(page, network, spoke.id, "/spoke/inbox")

    await expect(page.get_by_role("heading", name="To acknowledge (1)")).to_be_visible()
    await screenshot(page, "spoke-inbox")
    await page.get_by_role("link", name=re.compile("Quimby")).click()
    await expect(page.get_by_role("heading", name="Assessment")).to_be_visible()
    await expect(page.locator("article.note")).to_contain_text("split dosing for pain")
    await screenshot(page, "spoke-note")
    await page.set_viewport_size(TABLET)
    await screenshot(page, "spoke-note-tablet")
    await page.set_viewport_size({"width": 1024, "height": 900})

    await page.get_by_role("button", name="Acknowledge").click()
    await expect(page.get_by_role("status")).to_have_text("Acknowledged: the loop is closed.")
    await expect(page.get_by_role("button", name="Acknowledge")).to_have_count(0)

    await page.get_by_role("link", name="Print").click()
    await expect(page.locator(".print-header")).to_contain_text(patient.mrn)
    await expect(page.locator(".print-header")).to_contain_text(spoke.name)
    await expect(page.get_by_role("navigation")).to_have_count(0)
    await page.emulate_media(media="print")
    await expect(page.get_by_text("Back to the note")).to_be_hidden()
    await screenshot(page, "spoke-note-print")
