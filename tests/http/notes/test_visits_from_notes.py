"""A recommended visit is booked in one step (once, unless cancelled); a session note is
written on a booking."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import (
    NOTE_SECTIONS,
    Network,
    sign_note,
    signed_note,
)
from tests.http.notes.support import Loop, clinic_view


async def test_a_recommended_visit_is_booked_in_one_step(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    visit = {
        "service_id": loop.video_service_id,
        "consultant_id": loop.consultant_id,
        "start": "2027-03-08T09:00:00-08:00",
    }
    url = f"/api/v1/econsults/{loop.econsult_id}/visit"
    too_early = await client.post(url, json=visit, headers=loop.spoke.headers)
    assert too_early.status == 409  # nothing signed yet

    await signed_note(client, loop.hub, loop.econsult_id)
    booked = await client.post(url, json=visit, headers=loop.spoke.headers)

    assert booked.status == 201, await booked.text()
    booking = await booked.json()
    patient = await conn.fetchval(
        "SELECT patient_id FROM econsults WHERE id = $1", uuid.UUID(loop.econsult_id)
    )
    assert booking["patient_id"] == str(patient)
    assert booking["video_link"]


async def test_a_session_note_is_written_on_a_booking(
    client: TestClient, network: Network, loop: Loop, conn: asyncpg.Connection
) -> None:
    patient_id = await conn.fetchval("SELECT patient_id FROM econsults")
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": loop.video_service_id,
            "consultant_id": loop.consultant_id,
            "patient_id": str(patient_id),
            "start": "2027-03-08T09:00:00-08:00",
        },
        headers={**loop.spoke.headers, "Idempotency-Key": "visit-note"},
    )
    booking = await booked.json()
    draft = await client.post(
        f"/api/v1/bookings/{booking['id']}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert draft.status == 201
    note = await draft.json()
    assert note["booking_id"] == booking["id"] and note["econsult_id"] is None
    await sign_note(client, loop.hub, note["id"])
    inbox = await (await client.get("/api/v1/notes", headers=loop.spoke.headers)).json()
    assert [n["id"] for n in inbox["notes"]] == [note["id"]]


async def test_a_recommended_visit_is_booked_once_unless_it_was_cancelled(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    await signed_note(client, loop.hub, loop.econsult_id)
    url = f"/api/v1/econsults/{loop.econsult_id}/visit"
    first = {
        "service_id": loop.video_service_id,
        "consultant_id": loop.consultant_id,
        "start": "2027-03-08T09:00:00-08:00",
    }
    booked = await (await client.post(url, json=first, headers=loop.spoke.headers)).json()
    again = await client.post(
        url, json={**first, "start": "2027-03-08T10:00:00-08:00"}, headers=loop.spoke.headers
    )
    assert again.status == 409
    assert "booked already" in (await again.json())["detail"]
    assert (await clinic_view(client, loop))["visit_booking_id"] == booked["id"]

    await client.post(
        f"/api/v1/bookings/{booked['id']}/cancel",
        json={"reason": "sick"},
        headers=loop.spoke.headers,
    )
    rebooked = await client.post(
        url, json={**first, "start": "2027-03-08T10:00:00-08:00"}, headers=loop.spoke.headers
    )
    assert rebooked.status == 201
    assert (await clinic_view(client, loop))["visit_booking_id"] == (await rebooked.json())["id"]
