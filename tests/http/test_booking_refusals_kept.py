"""What the four-round-trip booking path must still answer as the old one did (issue 16's
review): the exclusion constraint's refusal at the write is a 409, never a 500; with a hold,
the clinic's patient is refused before anything of the hold; book() outside a transaction
still books, under its lock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from scheduling import bookings
from telehub.audit import Trail
from tests.factories import Clock, Network, bookable, booking_body

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)  # an offered slot


def _keyed(headers: dict[str, str]) -> dict[str, str]:
    return {**headers, "Idempotency-Key": uuid.uuid4().hex}


async def test_the_constraints_refusal_at_the_write_answers_409_slot_taken(
    client: TestClient, network: Network, monkeypatch: pytest.MonkeyPatch
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    body = booking_body(
        service_id=svc.id, consultant_id=consultant.id, patient_id=patient.id, start=MONDAY_9_LA
    )
    first = await client.post("/api/v1/bookings", json=body, headers=_keyed(spoke.headers))
    assert first.status == 201
    # A check that disagrees with the constraint: only the constraint refuses now.
    monkeypatch.setattr(bookings, "why_not_open", lambda *args, **kwargs: None)

    again = await client.post("/api/v1/bookings", json=body, headers=_keyed(spoke.headers))

    assert again.status == 409, await again.text()
    assert (await again.json())["type"] == "/problems/slot-taken"


async def test_with_a_lapsed_hold_another_clinics_patient_is_refused_first(
    client: TestClient, network: Network, clock: Clock
) -> None:
    svc, consultant, spoke, _ = await bookable(network)
    foreign = await network.patient(await network.spoke())
    held = await client.post(
        "/api/v1/holds",
        json={
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "start": "2027-03-08T17:00:00Z",
        },
        headers=_keyed(spoke.headers),
    )
    assert held.status == 201, await held.text()
    clock.now = clock.now + timedelta(hours=2)

    refused = await client.post(
        "/api/v1/bookings",
        json={"hold_id": (await held.json())["id"], "patient_id": str(foreign.id)},
        headers=_keyed(spoke.headers),
    )

    assert refused.status == 422, await refused.text()
    assert [e["field"] for e in (await refused.json())["errors"]] == ["patient_id"]


async def test_book_outside_a_transaction_books_under_its_own(
    network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    new = bookings.NewBooking(svc.id, consultant.id, patient.id, MONDAY_9_LA)

    booked = await bookings.book(
        conn, spoke.id, Trail("test"), new, now=clock.now, video_url_template="{room}"
    )

    assert not conn.is_in_transaction()
    stored = await conn.fetchrow("SELECT created_at, status FROM bookings WHERE id = $1", booked.id)
    assert stored is not None and stored["status"] == "booked"
    assert stored["created_at"] == booked.created_at
