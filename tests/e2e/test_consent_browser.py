"""In Chromium: a clinic user sees the banner of a note waiting for the patient's consent,
records the consent on the patient page (with the signed form), and the note then opens with
the Part 2 notice and its consent's scope."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from consults.part2 import NOTICE
from tests.e2e.clinic_scene import sign_in
from tests.factories import Network, econsult, live_client, signed_note

pytestmark = pytest.mark.slow

ASSESSMENT = "Severe opioid use disorder; stable on buprenorphine."
PDF = b"%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n"


async def test_a_held_note_opens_with_the_notice_once_the_consent_is_recorded(
    page: Page, network: Network, live: TestServer, tmp_path: Path
) -> None:
    service = await network.service(kind="econsult", name="OUD e-consult", turnaround_hours=48)
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Ashdown", consent=None)
    async with live_client(live) as http:
        asked = await econsult(http, spoke, patient_id=patient.id, service_id=service.id)
        note = await signed_note(
            http,
            network.consultant_headers(consultant.id),
            asked["id"],
            {
                "assessment": ASSESSMENT,
                "recommendations": {"moud": "Continue 16 mg daily."},
                "follow_up": "Re-consult in 4 weeks.",
                "visit_recommended": False,
            },
        )
    email, password = await network.user("spoke_clinician", spoke_id=spoke.id)
    form = tmp_path / "signed-consent.pdf"
    form.write_bytes(PDF)
    await sign_in(page, email, password, "/spoke")

    banner = page.locator(".held-banner")
    await expect(banner).to_contain_text("1 note is waiting for patients' consent.")
    await banner.get_by_role("link", name="Ashdown").click()
    await expect(page.locator("#consent")).to_be_visible()
    await expect(page.get_by_text("1 note is waiting for the patient's consent.")).to_be_visible()
    await page.get_by_role("link", name="Record a consent").click()
    await expect(page.get_by_label("Treatment, payment and health care operations")).to_be_checked()
    await page.get_by_label("Signed on").fill("2027-02-26")
    await page.get_by_label("Signed form").set_input_files(str(form))
    await page.get_by_role("button", name="Record consent").click()

    await expect(
        page.get_by_text("Consent recorded. 1 held note sent to the clinic.")
    ).to_be_visible()
    await expect(page.locator(".consent-status")).to_contain_text("Active")
    await expect(page.get_by_text("signed-consent.pdf")).to_be_visible()
    await page.goto(f"/spoke/notes/{note['id']}")
    await expect(page.locator(".part2-notice")).to_have_text(NOTICE)
    await expect(page.locator(".part2-scope")).to_contain_text("until revoked")
    await expect(page.get_by_text(ASSESSMENT)).to_be_visible()
