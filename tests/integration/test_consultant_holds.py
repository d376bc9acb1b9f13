"""One exclusion constraint holds every minute of a consultant, booked or held by a group:
triggers keep bookings' and group occurrences' holds in step inside the writing transaction."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from scheduling import booking_store
from scheduling.slots import Period
from tests.factories import Bookable, Network, bookable

NINE = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


async def _group_occurrence(
    conn: asyncpg.Connection, service_id: int, consultant_id: int, start: datetime
) -> str:
    group = await conn.fetchval(
        "INSERT INTO groups (service_id, consultant_id, title, capacity, repeat, count,"
        " first_start, zone, created_by) VALUES ($1, $2, 'Support group', 8, 'once', 1, $3,"
        " 'America/Los_Angeles', 'test') RETURNING id",
        service_id,
        consultant_id,
        start,
    )
    period = asyncpg.Range(start, start + timedelta(minutes=60))
    return str(
        await conn.fetchval(
            "INSERT INTO group_occurrences (group_id, position, consultant_id, period, blocked,"
            " capacity) VALUES ($1, 1, $2, $3, $3, 8) RETURNING id",
            group,
            consultant_id,
            period,
        )
    )


async def _book(conn: asyncpg.Connection, b: Bookable, start: datetime) -> booking_store.Booking:
    period = Period(start, start + timedelta(minutes=60))
    return await booking_store.insert_booking(
        conn,
        service_id=b.service.id,
        consultant_id=b.consultant.id,
        spoke_id=b.spoke.id,
        patient_id=b.patient.id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )


async def test_a_group_cannot_be_created_over_a_booking(
    conn: asyncpg.Connection, network: Network
) -> None:
    b = await bookable(network)
    await _book(conn, b, NINE)

    with pytest.raises(asyncpg.ExclusionViolationError):
        async with conn.transaction():
            await _group_occurrence(
                conn, b.service.id, b.consultant.id, NINE + timedelta(minutes=30)
            )


async def test_no_booking_lands_on_a_group_and_a_cancelled_group_frees_its_time(
    conn: asyncpg.Connection, network: Network
) -> None:
    b = await bookable(network)
    occurrence = await _group_occurrence(conn, b.service.id, b.consultant.id, NINE)

    with pytest.raises(booking_store.Overlap):  # the booking write path's own refusal
        async with conn.transaction():
            await _book(conn, b, NINE + timedelta(minutes=30))
    await conn.execute(
        "UPDATE group_occurrences SET status = 'cancelled', cancelled_at = now() WHERE id = $1",
        occurrence,
    )
    booked = await _book(conn, b, NINE + timedelta(minutes=30))

    holds = await conn.fetch(
        "SELECT booking_id, group_occurrence_id FROM consultant_holds WHERE consultant_id = $1",
        b.consultant.id,
    )
    assert [(h["booking_id"], h["group_occurrence_id"]) for h in holds] == [(booked.id, None)]


async def test_a_cancelled_or_moved_booking_moves_its_hold(
    conn: asyncpg.Connection, network: Network
) -> None:
    b = await bookable(network)
    booked = await _book(conn, b, NINE)
    later = asyncpg.Range(NINE + timedelta(hours=2), NINE + timedelta(hours=3))

    await conn.execute(
        "UPDATE bookings SET period = $2, blocked = $2 WHERE id = $1", booked.id, later
    )
    moved = await conn.fetchval(
        "SELECT blocked FROM consultant_holds WHERE booking_id = $1", booked.id
    )
    await conn.execute(
        "UPDATE bookings SET status = 'cancelled', cancelled_at = now() WHERE id = $1", booked.id
    )
    left = await conn.fetchval(
        "SELECT count(*) FROM consultant_holds WHERE booking_id = $1", booked.id
    )

    assert (moved.lower, moved.upper) == (later.lower, later.upper)
    assert left == 0
