"""Slot holds in the core on a real database: a hold's minutes sit under the one exclusion
constraint, every writer of the consultant's time ends lapsed holds under the time lock, and
a group or a series cannot take a held time (nor a lapsed hold keep it from them)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg
import pytest

from scheduling import booking_store, bookings, holds
from scheduling.bookings import NewBooking
from scheduling.holds import NewHold
from telehub.audit import Trail
from telehub.errors import SlotTaken, ValidationFailed
from tests.factories import Bookable, Network, bookable

NINE = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)  # 09:00 Monday in Los Angeles
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
TRAIL = Trail(actor="client:test", request_id="r-holds", remote_addr="127.0.0.1")


@pytest.fixture
async def s(network: Network) -> Bookable:
    return await bookable(network)


async def _hold(conn: asyncpg.Connection, s: Bookable, *, now: datetime = NOW) -> holds.Hold:
    async with conn.transaction():
        return await holds.hold(
            conn,
            s.spoke.id,
            TRAIL,
            NewHold(s.service.id, s.consultant.id, NINE),
            now=now,
            minutes=5,
        )


async def test_a_held_time_cannot_be_booked_or_held_again_until_it_lapses(
    conn: asyncpg.Connection, s: Bookable
) -> None:
    held = await _hold(conn, s)
    assert (held.status, held.expires_at) == ("active", NOW + timedelta(minutes=5))
    new = NewBooking(s.service.id, s.consultant.id, s.patient.id, NINE)
    for now in (NOW, NOW + timedelta(minutes=4, seconds=59)):
        with pytest.raises(SlotTaken):
            async with conn.transaction():
                await bookings.book(
                    conn, s.spoke.id, TRAIL, new, now=now, video_url_template="{room}"
                )
        with pytest.raises(SlotTaken):
            await _hold(conn, s, now=now)

    later = NOW + timedelta(minutes=5)
    async with conn.transaction():
        booked = await bookings.book(
            conn, s.spoke.id, TRAIL, new, now=later, video_url_template="{room}"
        )
    assert booked.start == NINE
    ended = await conn.fetchrow("SELECT status, ended_at FROM slot_holds WHERE id = $1", held.id)
    assert ended is not None and (ended["status"], ended["ended_at"]) == (
        "expired",
        held.expires_at,
    )


async def test_the_time_lock_ends_only_the_lapsed_holds_of_its_consultants(
    conn: asyncpg.Connection, s: Bookable, network: Network
) -> None:
    held = await _hold(conn, s)
    other = await bookable(network)
    theirs = await _hold(conn, other)
    async with conn.transaction():
        await booking_store.lock_consultants_time(
            conn, s.consultant.id, now=NOW + timedelta(minutes=1)
        )
    assert await conn.fetchval("SELECT status FROM slot_holds WHERE id = $1", held.id) == "active"
    async with conn.transaction():
        await booking_store.lock_consultants_time(
            conn, s.consultant.id, now=NOW + timedelta(minutes=6)
        )
    statuses = dict(await conn.fetch("SELECT id, status FROM slot_holds"))
    assert statuses == {held.id: "expired", theirs.id: "active"}
    assert (
        await conn.fetchval("SELECT count(*) FROM consultant_holds WHERE slot_hold_id IS NOT NULL")
        == 1
    )


async def test_a_failed_booking_of_a_hold_leaves_the_hold_active(
    conn: asyncpg.Connection, s: Bookable
) -> None:
    held = await _hold(conn, s)
    wrong = NewBooking(s.service.id, s.consultant.id, s.patient.id, NINE + timedelta(hours=1))
    with pytest.raises(ValidationFailed, match="start"):
        async with conn.transaction():
            await bookings.book(
                conn,
                s.spoke.id,
                TRAIL,
                wrong,
                now=NOW,
                video_url_template="{room}",
                hold_id=held.id,
            )
    assert await conn.fetchval("SELECT status FROM slot_holds WHERE id = $1", held.id) == "active"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
