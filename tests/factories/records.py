"""Bookings, e-consults and notes made through the API (or, for times the API refuses, the
booking store), with keyword defaults; small readers of what they made."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any, NamedTuple

import aiohttp
import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer

from consults import notes
from consults import store as econsult_store
from consults.note_store import Note, NoteKind, Subject
from hub.store import Consultant
from scheduling import booking_store
from scheduling.slots import Period
from scheduling.store import Service
from spokes.store import Patient
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.factories.network import Network, SpokeUser

# Who the records are made through: the app in process (the `client` fixture), or a session on
# a live server (`live_client`), as browser tests have.
Client = TestClient | aiohttp.ClientSession
# A complete consult note: every section a signature needs.
NOTE_SECTIONS: dict[str, Any] = {
    "assessment": "Opioid use disorder, severe, with fentanyl use; moderate depression.",
    "recommendations": {
        "moud": "Low-dose buprenorphine initiation over 7 days.",
        "medications": "Sertraline 50 mg daily after induction.",
        "therapy": "Weekly counseling with the hub's telehealth counselor.",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks or sooner if returns to use.",
    "visit_recommended": True,
}


async def slot_starts(
    client: TestClient,
    headers: dict[str, str],
    service_id: int,
    start: str = "2027-03-08T00:00:00Z",
    end: str = "2027-03-09T00:00:00Z",
    patient_state: str = "VT",
) -> list[str]:
    """The start times GET /api/v1/slots offers (asserting it answers 200)."""
    response = await client.get(
        "/api/v1/slots",
        params={
            "service_id": service_id,
            "start": start,
            "end": end,
            "patient_state": patient_state,
        },
        headers=headers,
    )
    assert response.status == 200, await response.text()
    return [s["start"] for s in (await response.json())["slots"]]


async def racing_bookings(
    network: Network, service_id: int, consultant_id: int, start: datetime, count: int
) -> list[tuple[dict[str, object], dict[str, str]]]:
    """(body, headers) of `count` bookings of one time, each from its own new spoke."""
    attempts = []
    for _ in range(count):
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        body = booking_body(
            service_id=service_id, consultant_id=consultant_id, patient_id=patient.id, start=start
        )
        attempts.append((body, {**spoke.headers, "Idempotency-Key": uuid.uuid4().hex}))
    return attempts


class Bookable(NamedTuple):
    """All a booking needs: a service, a consultant offering it, a spoke and its patient."""

    service: Service
    consultant: Consultant
    spoke: SpokeUser
    patient: Patient


async def bookable(network: Network, **service_fields: Any) -> Bookable:
    """A service (`service_fields` over the 60-minute video default), a consultant offering it
    (Mondays 09:00-12:00 in Los Angeles), and a Vermont spoke with a patient."""
    service = await network.service(**service_fields)
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    return Bookable(service, consultant, spoke, await network.patient(spoke))


def live_client(live: TestServer) -> aiohttp.ClientSession:
    """A session on the live app that takes the API's paths, for the record factories:
    `async with live_client(live) as http: await booking(http, ...)`."""
    return aiohttp.ClientSession(base_url=str(live.make_url("/")))


def booking_body(
    *,
    service_id: int,
    consultant_id: int,
    patient_id: object,
    start: str | datetime,
    reason: str | None = None,
) -> dict[str, object]:
    """The JSON body of POST /api/v1/bookings."""
    body: dict[str, object] = {
        "service_id": service_id,
        "consultant_id": consultant_id,
        "patient_id": str(patient_id),
        "start": start if isinstance(start, str) else start.isoformat(),
    }
    if reason is not None:
        body["reason"] = reason
    return body


async def book(
    client: Client, spoke: SpokeUser, body: Mapping[str, object], *, key: str | None = None
) -> ClientResponse:
    """POST /api/v1/bookings as the spoke under the Idempotency-Key (default: a fresh one);
    the response as it comes, refusals included."""
    headers = {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/bookings", json=dict(body), headers=headers)


async def booking(
    client: Client,
    spoke: SpokeUser,
    *,
    service_id: int,
    consultant_id: int,
    patient_id: object,
    start: str | datetime,
    reason: str | None = None,
    key: str | None = None,
) -> dict[str, Any]:
    """A booking the spoke makes through the API (asserting 201); the booking as it answers."""
    body = booking_body(
        service_id=service_id,
        consultant_id=consultant_id,
        patient_id=patient_id,
        start=start,
        reason=reason,
    )
    response = await book(client, spoke, body, key=key)
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def booking_in_store(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_id: int,
    spoke_id: int,
    patient_id: uuid.UUID,
    start: datetime,
    hours: int = 1,
) -> uuid.UUID:
    """A booking written through the booking store, which (unlike the API) takes any time,
    past ones and those outside the consultant's hours included; its id."""
    period = Period(start, start + timedelta(hours=hours))
    made = await booking_store.insert_booking(
        conn,
        service_id=service_id,
        consultant_id=consultant_id,
        spoke_id=spoke_id,
        patient_id=patient_id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )
    return made.id


async def booking_row(conn: asyncpg.Connection, booking_id: str) -> dict[str, Any]:
    """The stored booking, every column."""
    row = await conn.fetchrow("SELECT * FROM bookings WHERE id = $1", uuid.UUID(booking_id))
    assert row is not None
    return dict(row)


async def econsult(
    client: Client,
    spoke: SpokeUser,
    *,
    patient_id: object,
    service_id: int,
    question: str = "MOUD choice?",
    referring_clinician: str = "Dr. Park",
    **fields: object,
) -> dict[str, Any]:
    """An e-consult the spoke submits through the API (asserting 201), with any other fields
    of the body (urgency, clinical_context, review); the e-consult as it answers."""
    response = await client.post(
        "/api/v1/econsults",
        json={
            "patient_id": str(patient_id),
            "service_id": service_id,
            "referring_clinician": referring_clinician,
            "question": question,
            **fields,
        },
        headers=spoke.headers,
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def draft_note(
    client: Client,
    hub: Mapping[str, str],
    econsult_id: str,
    sections: Mapping[str, Any] = NOTE_SECTIONS,
) -> dict[str, Any]:
    """A draft answer to the e-consult, written through the API with the consultant's `hub`
    headers (asserting 201); the note as it answers."""
    response = await client.post(
        f"/api/v1/econsults/{econsult_id}/notes",
        json={"sections": dict(sections)},
        headers=dict(hub),
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def sign_note(client: Client, hub: Mapping[str, str], note_id: str) -> dict[str, Any]:
    """Sign the draft through the API (asserting 200); the signed note."""
    response = await client.post(f"/api/v1/notes/{note_id}/sign", headers=dict(hub))
    assert response.status == 200, await response.text()
    return dict(await response.json())


async def signed_note(
    client: Client,
    hub: Mapping[str, str],
    econsult_id: str,
    sections: Mapping[str, Any] = NOTE_SECTIONS,
) -> dict[str, Any]:
    """The consultant's answer to the e-consult, drafted and signed through the API."""
    draft = await draft_note(client, hub, econsult_id, sections)
    return await sign_note(client, hub, draft["id"])


def iso(value: datetime) -> str:
    """RFC 3339 text of an aware datetime."""
    return value.isoformat()


def day_window(start: datetime, days: int = 1) -> dict[str, str]:
    """start/end query parameters covering `days` days from `start`."""
    return {"start": iso(start), "end": iso(start + timedelta(days=days))}


# Where the links of events signed through the domain helpers below point.
BASE_URL = "http://telehub.test"


async def econsult_in_store(
    conn: asyncpg.Connection,
    *,
    patient: Patient,
    service_id: int,
    consultant_id: int,
    at: datetime,
) -> uuid.UUID:
    """An e-consult about the patient, written through the e-consult store and assigned to the
    consultant (the app's worker not involved); its id."""
    made = await econsult_store.insert_econsult(
        conn,
        spoke_id=patient.spoke_id,
        patient_id=patient.id,
        service_id=service_id,
        referring_clinician="Dr. Park",
        question="MOUD choice?",
        clinical_context={},
        urgency="routine",
        submitted_at=at,
        due_at=at + timedelta(days=2),
        consultant_id=consultant_id,
        booking_id=None,
        created_by="test",
    )
    return made.id


async def sign_in_domain(
    conn: asyncpg.Connection,
    consultant_id: int,
    subject: Subject,
    *,
    now: datetime,
    kind: NoteKind | None = None,
    sections: Mapping[str, Any] = NOTE_SECTIONS,
) -> Note:
    """The consultant signs the subject's note (a first version, or the next: an amendment)
    through consults.notes, in the caller's transaction, as signing through the API does:
    the note goes through the Part 2 gate to the outbox."""
    hub = Caller("consultant", "c", KIND_SCOPES["consultant"], consultant_id=consultant_id)
    return await notes.save_and_sign(
        conn,
        hub,
        Trail(hub.actor),
        subject,
        None,
        dict(sections),
        base_url=BASE_URL,
        now=now,
        kind=kind,
    )
