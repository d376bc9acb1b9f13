"""A reschedule through the API costs four round trips to PostgreSQL (issue 16), with or
without its Idempotency-Key, counted on the one connection of the app's pool once it knows the
statements: BEGIN with the key's claim, the booking's row lock and its consultants' time lock,
one read, one write, COMMIT. A replay costs three, and the answer kept is the one given."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Network, SpokeUser, book, bookable, booking_body
from tests.round_trips import Counted, assert_four_with_key, assert_replayed_in_three, shown


async def test_a_reschedule_is_four_round_trips_and_its_replay_three(
    counted: Counted, settings: Settings
) -> None:
    client, pool, sent = counted.client, counted.pool, counted.sent
    svc, consultant, spoke, patient = await bookable(Network(pool, settings))
    body = booking_body(
        service_id=svc.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        start="2027-03-08T17:00:00Z",  # Monday 09:00 in Los Angeles, an offered slot
    )
    booked = await book(client, spoke, body)
    assert booked.status == 201, await booked.text()
    path = f"/api/v1/bookings/{(await booked.json())['id']}/reschedule"

    async def move(start: str, key: str | None = None) -> ClientResponse:
        headers: dict[str, Any] = {**spoke.headers}
        if key is not None:
            headers["Idempotency-Key"] = key
        return await client.post(path, json={"start": start}, headers=headers)

    warm = await move("2027-03-08T18:00:00Z")
    assert warm.status == 200, await warm.text()  # asyncpg learns the statements' types once
    sent.take()

    first = await move("2027-03-08T19:00:00Z", key="move-1")
    moved = sent.take()
    again = await move("2027-03-08T19:00:00Z", key="move-1")
    replayed = sent.take()
    back = await move("2027-03-08T17:00:00Z")
    unkeyed = sent.take()

    assert first.status == 200, await first.text()
    assert (await first.json())["start"] == "2027-03-08T19:00:00Z"
    assert_four_with_key(moved, locks="lock_consultants_time", writes="UPDATE bookings")
    assert "FOR UPDATE" in moved[0]
    await assert_replayed_in_three(first, again, replayed)
    assert back.status == 200, await back.text()
    assert len(unkeyed) == 4, shown(unkeyed)
    assert unkeyed[0].startswith("BEGIN; SELECT lock_consultants_time(")
    async with pool.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'update' AND record_type = 'booking'"
            " AND record_id = $1",
            (await first.json())["id"],
        )
        kept = await conn.fetchval(
            "SELECT response_body FROM idempotency_keys WHERE key = 'move-1'"
        )
    assert audited == 3  # the warm-up, the keyed move and the move back; not the replay
    assert kept == await first.text()


async def test_a_reschedule_away_tells_a_waiting_clinic_of_the_time_it_left(
    counted: Counted, settings: Settings
) -> None:
    client, pool, sent = counted.client, counted.pool, counted.sent
    spoke, booking_id, waiting, request_id = await _booked_and_waited(
        client, Network(pool, settings)
    )
    sent.take()

    moved = await client.post(
        f"/api/v1/bookings/{booking_id}/reschedule",
        json={"start": "2027-03-15T16:00:00Z"},  # the Monday after, 09:00 in Los Angeles
        headers=spoke.headers,
    )
    statements = sent.take()

    assert moved.status == 200, await moved.text()
    # The waitlist's watch and tell cost their own round trips, between the read and COMMIT.
    # (After COMMIT the app's webhook worker, woken by the event, may use the connection.)
    assert statements[0].startswith("BEGIN; SELECT lock_consultants_time(")
    assert "slot_waitlist" in statements[1] and "COMMIT" in statements
    told = await client.get(f"/api/v1/waitlist/{request_id}", headers=waiting.headers)
    answer = await told.json()
    assert answer["status"] == "told"
    assert answer["told"]["start"] == "2027-03-08T17:00:00Z"


async def test_a_move_within_the_hour_tells_no_one_of_the_time_it_still_holds(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    # Half-hourly starts: 09:00-10:00 moved to 09:30-10:30 frees no start, though the time it
    # left (09:00-09:30) is free: what is open after is found with the time it now holds.
    spoke, booking_id, waiting, request_id = await _booked_and_waited(
        client, network, interval_minutes=30
    )
    path = f"/api/v1/bookings/{booking_id}/reschedule"

    half_past = await client.post(
        path, json={"start": "2027-03-08T17:30:00Z"}, headers=spoke.headers
    )
    assert half_past.status == 200, await half_past.text()
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    # Moved on to 11:00, 09:00 and 10:00 open: the earliest is what the clinic is told.
    away = await client.post(path, json={"start": "2027-03-08T19:00:00Z"}, headers=spoke.headers)
    assert away.status == 200, await away.text()
    told = await client.get(f"/api/v1/waitlist/{request_id}", headers=waiting.headers)
    assert (await told.json())["told"]["start"] == "2027-03-08T17:00:00Z"


async def _booked_and_waited(
    client: TestClient, network: Network, **offered: Any
) -> tuple[SpokeUser, str, SpokeUser, str]:
    """A clinic's booking on Monday 8 March 2027 at 09:00 in Los Angeles, and another clinic
    waiting for that day: (the clinic, its booking's id, the other, its waitlist request's id)."""
    svc, consultant, spoke, patient = await bookable(network, **offered)
    body = booking_body(
        service_id=svc.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        start="2027-03-08T17:00:00Z",
    )
    booked = await book(client, spoke, body)
    assert booked.status == 201, await booked.text()
    waiting = await network.spoke()
    joined = await client.post(
        "/api/v1/waitlist",
        json={"service_id": svc.id, "patient_state": "VT", "latest_date": "2027-03-08"},
        headers=waiting.headers,
    )
    assert joined.status == 201, await joined.text()
    return spoke, (await booked.json())["id"], waiting, (await joined.json())["id"]
