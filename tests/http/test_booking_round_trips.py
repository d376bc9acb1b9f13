"""A booking through the API costs four round trips to PostgreSQL (issue 16), counted on the
one connection of the app's pool, once it knows the statements (asyncpg reads a statement's
types once per connection): BEGIN with the key's claim and the consultant's time lock,
one read, one write, COMMIT. A replay costs three, and the answer stored is the one given."""

from __future__ import annotations

from datetime import UTC, datetime

from telehub.settings import Settings
from tests.factories import Network, book, bookable, booking_body
from tests.round_trips import Counted, assert_four_with_key, assert_replayed_in_three

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)  # 09:00 PST, an offered slot


async def test_a_booking_is_four_round_trips_and_its_replay_three(
    counted: Counted, settings: Settings
) -> None:
    client, pool, sent = counted.client, counted.pool, counted.sent
    svc, consultant, spoke, patient = await bookable(Network(pool, settings))
    body = booking_body(
        service_id=svc.id, consultant_id=consultant.id, patient_id=patient.id, start=MONDAY_9_LA
    )
    warm = await book(client, spoke, {**body, "start": "2027-03-08T18:00:00Z"})
    assert warm.status == 201, await warm.text()  # asyncpg learns the statements' types once
    sent.take()

    first = await book(client, spoke, body, key="round-trips-1")
    booked = sent.take()
    again = await book(client, spoke, body, key="round-trips-1")
    replayed = sent.take()

    assert first.status == 201, await first.text()
    assert_four_with_key(booked, locks="lock_consultants_time", writes="INSERT INTO bookings")
    await assert_replayed_in_three(first, again, replayed)
    async with pool.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'create' AND record_type = 'booking'"
            " AND record_id = $1",
            (await first.json())["id"],
        )
    assert audited == 1
