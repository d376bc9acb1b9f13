"""Helpers shared by the clinic page tests (the `clinic` fixture is in conftest.py)."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests import factories
from tests.factories import Network, SpokeUser, booking, econsult

NOTE = {
    "assessment": "Severe opioid use disorder with ongoing fentanyl use.",
    "recommendations": {
        "moud": "Low-dose buprenorphine initiation over 7 days.",
        "medications": "Sertraline 50 mg daily after induction.",
        "therapy": "Weekly counseling.",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks.",
    "visit_recommended": True,
}


class Clinic:
    """A New York clinic signed in as its scheduler, and a Los Angeles consultant."""

    spoke: SpokeUser
    patient: Patient
    video: Service
    econsult: Service
    consultant: Consultant
    csrf: str


async def post(client: TestClient, path: str, data: dict[str, Any], csrf: str) -> ClientResponse:
    """A form post from a signed-in page, not following the redirect."""
    return await client.post(path, data={**data, "csrf_token": csrf}, allow_redirects=False)


def field_html(page: str, input_id: str) -> str:
    """The markup of the form field (label, hint, error, input) holding an input."""
    start = page.rindex('<div class="field', 0, page.index(f'id="{input_id}"'))
    return page[start : page.index("</div>", start)]


def grid_of(page: str) -> str:
    """The week grid of the find page, without the filters above it."""
    return page[page.index('<table class="week"') :]


async def book_via_api(client: TestClient, c: Clinic, start: str) -> dict[str, Any]:
    """A video session of the clinic's patient booked through the API."""
    return await booking(
        client,
        c.spoke,
        service_id=c.video.id,
        consultant_id=c.consultant.id,
        patient_id=c.patient.id,
        start=start,
    )


async def econsult_via_api(client: TestClient, c: Clinic) -> dict[str, Any]:
    """An e-consult of the clinic's patient, auto-assigned to the consultant."""
    return await econsult(
        client,
        c.spoke,
        patient_id=c.patient.id,
        service_id=c.econsult.id,
        question="Buprenorphine induction with fentanyl use?",
    )


async def signed_note(
    client: TestClient, network: Network, c: Clinic, sections: dict[str, Any] = NOTE
) -> tuple[dict[str, Any], dict[str, Any]]:
    """(e-consult, signed note): the hub's answer to a question from the clinic."""
    asked = await econsult_via_api(client, c)
    hub = network.consultant_headers(c.consultant.id)
    return asked, await factories.signed_note(client, hub, asked["id"], sections)


def multi(form: dict[str, Any]) -> list[tuple[str, str]]:
    """Form fields as a browser sends them: a checkbox group repeats its name."""
    return [(k, item) for k, v in form.items() for item in (v if isinstance(v, list) else [v])]


def econsult_form(c: Clinic, **changes: str) -> dict[str, Any]:
    """A complete e-consult form as a browser posts it."""
    form: dict[str, Any] = {
        "patient_id": str(c.patient.id),
        "service_id": str(c.econsult.id),
        "referring_clinician": "Dr. Lena Park, MD",
        "question": "Induction strategy with ongoing fentanyl use?",
        "urgency": "urgent",
        "clinical_context.current_moud.medication": "buprenorphine_naloxone",
        "clinical_context.current_moud.daily_dose_mg": "16",
        "clinical_context.current_moud.since": "2026-11-02",
        "clinical_context.phq9": "18",
        "clinical_context.gad7": "12",
        "clinical_context.co_occurring_diagnoses": "Major depressive disorder\r\n\r\n  PTSD  \r\n",
        "clinical_context.urine_drug_screen.collected_on": "2027-02-26",
        "clinical_context.urine_drug_screen.results.fentanyl": "positive",
        "clinical_context.urine_drug_screen.results.buprenorphine": "negative",
        "clinical_context.urine_drug_screen.results.cocaine": "",
        "clinical_context.pain.present": "yes",
        "clinical_context.pain.score": "6",
        "clinical_context.pain.notes": "Chronic low back pain",
        "clinical_context.psychosocial_needs": ["housing", "transportation"],
        "clinical_context.family_involvement": "Sister attends visits",
        "clinical_context.other": "",
    }
    form.update(changes)
    return form
