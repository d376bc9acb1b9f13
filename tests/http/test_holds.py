"""Slot holds through the API (issue 15): hold (201 with expires_at), taken (409) for anyone
else, not an open slot (422 naming the field), book the hold, another clinic's hold (404), the
hold's expiry by the app's clock with no job running, release, idempotent retry, audit rows."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Bookable, Clock, Network, SpokeUser, bookable
from tests.http.problems import problem_of

MONDAY_9_LA = "2027-03-08T17:00:00Z"  # 09:00 in Los Angeles: the factory consultant's Monday


@pytest.fixture
async def s(network: Network) -> Bookable:
    """A 60-minute video service, a consultant free Mondays 9-12 in Los Angeles, a VT clinic."""
    return await bookable(network)


@pytest.fixture
async def other(network: Network) -> tuple[SpokeUser, Any]:
    """Another clinic and its patient."""
    spoke = await network.spoke()
    return spoke, await network.patient(spoke)


def hold_body(s: Bookable, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_id": s.service.id,
        "consultant_id": s.consultant.id,
        "start": MONDAY_9_LA,
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


def keyed(spoke: SpokeUser, key: str | None = None) -> dict[str, str]:
    return {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}


async def take(client: TestClient, s: Bookable, **fields: Any) -> dict[str, Any]:
    r = await client.post("/api/v1/holds", json=hold_body(s, **fields), headers=keyed(s.spoke))
    assert r.status == 201, await r.text()
    held: dict[str, Any] = await r.json()
    assert r.headers["Location"].endswith(f"/api/v1/holds/{held['id']}")
    return held


async def open_starts(client: TestClient, s: Bookable) -> list[str]:
    r = await client.get(
        "/api/v1/slots",
        params={
            "service_id": s.service.id,
            "start": "2027-03-08T00:00:00Z",
            "end": "2027-03-09T00:00:00Z",
            "patient_state": "VT",
        },
        headers=s.spoke.headers,
    )
    assert r.status == 200, await r.text()
    return [slot["start"] for slot in (await r.json())["slots"]]


async def book(client: TestClient, spoke: SpokeUser, patient_id: object, **fields: Any) -> Any:
    body = {"patient_id": str(patient_id), **fields}
    return await client.post("/api/v1/bookings", json=body, headers=keyed(spoke))


async def test_a_hold_keeps_the_slot_for_the_clinic_until_it_books_it(
    client: TestClient,
    s: Bookable,
    other: tuple[SpokeUser, Any],
    clock: Clock,
    conn: asyncpg.Connection,
) -> None:
    held = await take(client, s)
    assert held["status"] == "active"
    assert held["start"] == MONDAY_9_LA
    assert held["expires_at"] == "2027-03-01T15:05:00Z"  # the app's clock + 5 minutes
    assert MONDAY_9_LA not in await open_starts(client, s)

    spoke, patient = other
    # Another clinic: neither hold the slot, nor book it, nor use or see the hold.
    taken = await client.post("/api/v1/holds", json=hold_body(s), headers=keyed(spoke))
    assert (await problem_of(taken, 409))["type"] == "/problems/slot-taken"
    slot = {"service_id": s.service.id, "consultant_id": s.consultant.id, "start": MONDAY_9_LA}
    await problem_of(await book(client, spoke, patient.id, **slot), 409)
    await problem_of(await book(client, spoke, patient.id, hold_id=held["id"]), 404)
    await problem_of(await client.get(f"/api/v1/holds/{held['id']}", headers=spoke.headers), 404)

    clock.now += timedelta(minutes=4)  # still held
    r = await book(client, s.spoke, s.patient.id, hold_id=held["id"], reason="follow-up")
    assert r.status == 201, await r.text()
    booked = await r.json()
    assert (booked["start"], booked["consultant_id"]) == (MONDAY_9_LA, s.consultant.id)

    seen = await (await client.get(f"/api/v1/holds/{held['id']}", headers=s.spoke.headers)).json()
    assert (seen["status"], seen["booking_id"]) == ("booked", booked["id"])
    assert await conn.fetchval("SELECT count(*) FROM consultant_holds") == 1
    gone = await client.delete(f"/api/v1/holds/{held['id']}", headers=s.spoke.headers)
    assert (await problem_of(gone, 409))["detail"].startswith("the hold was booked")
    audited = await conn.fetch(
        "SELECT action, spoke_id FROM audit_log WHERE record_type = 'slot_hold'"
        " AND record_id = $1 ORDER BY id",
        held["id"],
    )
    assert [(a["action"], a["spoke_id"]) for a in audited] == [
        ("create", s.spoke.id),
        ("update", s.spoke.id),  # booked
        ("read", s.spoke.id),
    ]


async def test_an_expired_hold_frees_the_slot_with_no_job_running(
    client: TestClient,
    s: Bookable,
    other: tuple[SpokeUser, Any],
    clock: Clock,
    conn: asyncpg.Connection,
) -> None:
    held = await take(client, s)
    clock.now += timedelta(minutes=5)  # expires_at is not inside the hold

    assert MONDAY_9_LA in await open_starts(client, s)
    seen = await (await client.get(f"/api/v1/holds/{held['id']}", headers=s.spoke.headers)).json()
    assert seen["status"] == "expired"
    spoke, patient = other
    slot = {"service_id": s.service.id, "consultant_id": s.consultant.id, "start": MONDAY_9_LA}
    r = await book(client, spoke, patient.id, **slot)
    assert r.status == 201, await r.text()
    # The writer ended the lapsed hold under the consultant's time lock.
    assert await conn.fetchval("SELECT status FROM slot_holds WHERE id = $1", held["id"]) == (
        "expired"
    )
    late = await book(client, s.spoke, s.patient.id, hold_id=held["id"])
    assert (await problem_of(late, 409))["detail"].startswith("the hold expired")


async def test_booking_a_lapsed_hold_says_it_expired_and_books_nothing(
    client: TestClient, s: Bookable, clock: Clock, conn: asyncpg.Connection
) -> None:
    held = await take(client, s)
    clock.now += timedelta(minutes=6)
    late = await book(client, s.spoke, s.patient.id, hold_id=held["id"])
    assert (await problem_of(late, 409))["detail"].startswith("the hold expired")
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0


async def test_release_frees_the_slot_and_is_idempotent(
    client: TestClient, s: Bookable, conn: asyncpg.Connection
) -> None:
    held = await take(client, s)
    for _ in range(2):
        r = await client.delete(f"/api/v1/holds/{held['id']}", headers=s.spoke.headers)
        assert r.status == 204, await r.text()
    assert MONDAY_9_LA in await open_starts(client, s)
    assert await conn.fetchval("SELECT status FROM slot_holds") == "released"
    assert await conn.fetchval("SELECT count(*) FROM consultant_holds") == 0
    r = await book(client, s.spoke, s.patient.id, hold_id=held["id"])
    assert (await problem_of(r, 409))[
        "detail"
    ] == "the hold is released and can no longer be booked"


async def test_a_retry_under_one_idempotency_key_answers_the_same_hold(
    client: TestClient, s: Bookable, conn: asyncpg.Connection
) -> None:
    headers = keyed(s.spoke, "hold-retry-1")
    first = await client.post("/api/v1/holds", json=hold_body(s), headers=headers)
    again = await client.post("/api/v1/holds", json=hold_body(s), headers=headers)
    assert (first.status, again.status) == (201, 201)
    assert (await first.json())["id"] == (await again.json())["id"]
    assert await conn.fetchval("SELECT count(*) FROM slot_holds") == 1


@pytest.mark.parametrize(
    ("fields", "status", "named"),
    [
        ({"start": "2027-03-08T09:00:00"}, 422, "start"),  # no offset
        ({"start": "2027-03-08T17:10:00Z"}, 422, "start"),  # not a slot start
        ({"start": "2027-03-01T14:00:00Z"}, 422, "start"),  # passed
        ({"service_id": 0}, 422, "service_id"),
        ({"service_id": 999}, 422, "service_id"),
        ({"consultant_id": 999}, 422, "consultant_id"),
        ({"patient_id": str(uuid.uuid4())}, 422, "patient_id"),
        ({"start": None}, 422, "start"),
    ],
)
async def test_bad_holds_name_the_field_and_change_nothing(
    client: TestClient,
    s: Bookable,
    conn: asyncpg.Connection,
    fields: dict[str, Any],
    status: int,
    named: str,
) -> None:
    body = hold_body(s, **fields)
    if fields == {"start": None}:
        body.pop("start", None)
    r = await client.post("/api/v1/holds", json=body, headers=keyed(s.spoke))
    problem = await problem_of(r, status)
    assert [e["field"] for e in problem["errors"]] == [named]
    assert await conn.fetchval("SELECT count(*) FROM slot_holds") == 0
    assert (
        await conn.fetchval("SELECT count(*) FROM audit_log WHERE record_type = 'slot_hold'") == 0
    )


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"start": "2027-03-08T18:00:00Z"}, "start"),
        ({"consultant_id": 999}, "consultant_id"),
    ],
)
async def test_a_booking_naming_another_slot_than_its_hold_is_refused_naming_the_field(
    client: TestClient, s: Bookable, conn: asyncpg.Connection, fields: dict[str, Any], named: str
) -> None:
    held = await take(client, s)
    r = await book(client, s.spoke, s.patient.id, hold_id=held["id"], **fields)
    problem = await problem_of(r, 422)
    assert [e["field"] for e in problem["errors"]] == [named]
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
    assert await conn.fetchval("SELECT status FROM slot_holds") == "active"


async def test_a_booking_without_slot_or_hold_names_the_missing_field(
    client: TestClient, s: Bookable
) -> None:
    r = await book(client, s.spoke, s.patient.id, consultant_id=s.consultant.id)
    problem = await problem_of(r, 422)
    assert [e["field"] for e in problem["errors"]] == ["service_id"]
