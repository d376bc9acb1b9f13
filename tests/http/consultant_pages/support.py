"""What the consultant page tests share: a note as the form posts it, a clinic's clinical
context, the `hub` the fixture builds (conftest.py), and small readers of pages."""

from __future__ import annotations

import re
import uuid

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import SpokeUser, booking, econsult, page_csrf

NOTE = {
    "sections.assessment": "Opioid use disorder, severe, with fentanyl use; moderate depression.",
    "sections.recommendations.moud": "Low-dose buprenorphine initiation over 7 days.",
    "sections.recommendations.medications": "Sertraline 50 mg daily after induction.",
    "sections.recommendations.therapy": "",
    "sections.recommendations.referrals": "",
    "sections.follow_up": "Re-consult in 4 weeks, sooner if use returns.",
    "sections.visit_recommended": "true",
}
CONTEXT = {
    "current_moud": {"medication": "buprenorphine_naloxone", "daily_dose_mg": 16},
    "phq9": 18,
    "gad7": 11,
    "co_occurring_diagnoses": ["Major depressive disorder"],
    "urine_drug_screen": {
        "collected_on": "2027-02-26",
        "results": {"fentanyl": "positive", "xylazine": "positive", "cocaine": "negative"},
    },
    "pain": {"present": True, "score": 6, "notes": "Chronic low back pain"},
    "psychosocial_needs": ["housing", "transportation"],
    "family_involvement": "Sister attends visits",
}


class Hub:
    """A signed-in consultant in Los Angeles, their services, and a clinic with a patient."""

    consultant: Consultant
    econsult_service: Service
    video: Service
    spoke: SpokeUser
    patient: Patient


async def book(client: TestClient, h: Hub, start: str, *, consultant_id: int | None = None) -> str:
    """A video session booked by the clinic through the API; its id."""
    booked = await booking(
        client,
        h.spoke,
        service_id=h.video.id,
        consultant_id=consultant_id or h.consultant.id,
        patient_id=h.patient.id,
        start=start,
    )
    return str(booked["id"])


async def ask(
    client: TestClient,
    h: Hub,
    *,
    patient: Patient | None = None,
    urgency: str = "routine",
    service: Service | None = None,
) -> str:
    """An e-consult from the clinic (assigned to the least-loaded consultant); its id."""
    asked = await econsult(
        client,
        h.spoke,
        patient_id=(patient or h.patient).id,
        service_id=(service or h.econsult_service).id,
        referring_clinician="Dr. Lena Park",
        question="Buprenorphine induction with fentanyl use: low-dose or standard?",
        clinical_context=CONTEXT,
        urgency=urgency,
    )
    return str(asked["id"])


async def post(client: TestClient, path: str, data: dict[str, str], page: str) -> ClientResponse:
    """A form post with the CSRF token of the page the form is on."""
    token = await page_csrf(client, page)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


def value_of(html: str, field_id: str) -> str:
    """The value an input shows."""
    match = re.search(rf'<input id="{field_id}"[^>]*?value="([^"]*)"', html)
    assert match, f"no input {field_id}"
    return match.group(1)


def between(html: str, start: str, end: str) -> str:
    """The part of a page from one marker to the next."""
    return html.split(start, 1)[1].split(end, 1)[0]


async def notes_of(conn: asyncpg.Connection, econsult_id: str) -> list[asyncpg.Record]:
    """The e-consult's note versions as stored."""
    return await conn.fetch(
        "SELECT id, version, sections, signed_at FROM consult_notes "
        "WHERE econsult_id = $1 ORDER BY version",
        uuid.UUID(econsult_id),
    )


def submitted_by_browser(html: str) -> dict[str, str]:
    """What a browser would send for the page's first POST form, left as it is."""
    form = between(html, '<form method="post" action="/hub/availability"', "</form>")
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and (' type="checkbox"' not in tag or " checked" in tag):
            fields[name.group(1)] = value.group(1) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    return fields
