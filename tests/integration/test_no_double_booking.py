"""The exclusion constraint refuses overlaps under real concurrent transactions, and the
consultant's lock in bookings.book makes conflicting bookings queue instead of deadlocking."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from scheduling import booking_store, bookings
from scheduling.slots import Period
from telehub.audit import Trail
from telehub.db import create_pool
from telehub.errors import SlotTaken
from telehub.settings import Settings
from tests.factories import Network, bookable

NINE = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
# Sessions of this database waiting on a lock (other test sessions may share the server).
WAITING_ON_LOCKS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def test_twenty_concurrent_transactions_inserting_overlaps_commit_one(
    settings: Settings, network: Network
) -> None:
    svc = await network.service()
    other = await network.service(kind="case_review")
    consultant = await network.consultant([svc, other])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    started = asyncio.Event()
    waiting = 0

    async def attempt(i: int) -> bool:
        nonlocal waiting
        # Different services and slightly different times: all overlap through buffers.
        period = Period(NINE + timedelta(minutes=i), NINE + timedelta(minutes=30 + i))
        blocked = Period(period.start - timedelta(minutes=10), period.end + timedelta(minutes=10))
        async with wide.acquire() as conn, conn.transaction():
            waiting += 1
            if waiting == 20:
                started.set()
            await started.wait()  # every transaction is open before anyone inserts
            try:
                await booking_store.insert_booking(
                    conn,
                    service_id=(svc, other)[i % 2].id,
                    consultant_id=consultant.id,
                    spoke_id=spoke.id,
                    patient_id=patient.id,
                    period=period,
                    blocked=blocked,
                    reason="",
                    video_link=None,
                    created_by="test",
                )
            except booking_store.Overlap:
                return False
            await asyncio.sleep(0.01)  # hold the row a moment so others must wait on it
            return True

    wide = await create_pool(replace(settings, db_pool_min=20, db_pool_max=20))
    try:
        results = await asyncio.gather(*(attempt(i) for i in range(20)))
        async with wide.acquire() as conn:
            rows = await conn.fetchval("SELECT count(*) FROM bookings")
    finally:
        await wide.close()

    assert results.count(True) == 1
    assert rows == 1


async def test_a_cancelled_booking_does_not_block_its_time(
    conn: asyncpg.Connection, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    period = Period(NINE, NINE + timedelta(hours=1))
    fields = dict(
        service_id=svc.id,
        consultant_id=consultant.id,
        spoke_id=spoke.id,
        patient_id=patient.id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )
    first = await booking_store.insert_booking(conn, **fields)
    await booking_store.cancel_booking(conn, first.id, by="test", reason="moved")
    second = await booking_store.insert_booking(conn, **fields)
    assert second.status == "booked"


async def test_two_consultants_may_be_booked_at_the_same_time(
    conn: asyncpg.Connection, network: Network
) -> None:
    svc = await network.service()
    a = await network.consultant([svc])
    b = await network.consultant([svc])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    period = Period(NINE, NINE + timedelta(hours=1))
    for consultant in (a, b):
        await booking_store.insert_booking(
            conn,
            service_id=svc.id,
            consultant_id=consultant.id,
            spoke_id=spoke.id,
            patient_id=patient.id,
            period=period,
            blocked=period,
            reason="",
            video_link=None,
            created_by="test",
        )
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 2


async def test_bookings_waiting_on_a_holder_that_rolls_back_queue_instead_of_deadlocking(
    settings: Settings, network: Network
) -> None:
    # Behind an uncommitted row, conflicting inserts deadlock each other when it rolls back
    # (a documented property of exclusion constraints). bookings.book takes the consultant's
    # lock before its check, so they wait their turn: one books, the others are told taken.
    svc = await network.service()
    consultant = await network.consultant([svc])
    racers = []
    for _ in range(10):
        spoke = await network.spoke()
        racers.append((spoke.id, (await network.patient(spoke)).id))
    holder_spoke = await network.spoke()
    holder_patient = await network.patient(holder_spoke)
    period = Period(NINE, NINE + timedelta(minutes=svc.duration_minutes))

    async def book(spoke_id: int, patient_id: uuid.UUID) -> str:
        async with wide.acquire() as conn, conn.transaction():
            try:
                await bookings.book(
                    conn,
                    spoke_id,
                    Trail(f"racer-{spoke_id}"),
                    bookings.NewBooking(svc.id, consultant.id, patient_id, NINE),
                    now=NOW,
                    video_url_template="https://video.test/{room}",
                )
            except SlotTaken:
                return "taken"
            return "booked"

    wide = await create_pool(replace(settings, db_pool_min=12, db_pool_max=12))
    try:
        async with wide.acquire() as holder:
            transaction = holder.transaction()
            await transaction.start()
            await booking_store.insert_booking(
                holder,
                service_id=svc.id,
                consultant_id=consultant.id,
                spoke_id=holder_spoke.id,
                patient_id=holder_patient.id,
                period=period,
                blocked=bookings.blocked_period(svc, period),
                reason="",
                video_link=None,
                created_by="holder",
            )
            racing = [asyncio.create_task(book(*racer)) for racer in racers]
            for _ in range(300):  # until all ten wait: one on the row, nine for their turn
                # Not in the holder's transaction: activity statistics are frozen per transaction.
                if await wide.fetchval(WAITING_ON_LOCKS) >= 10:
                    break
                await asyncio.sleep(0.02)
            await transaction.rollback()
            outcomes = await asyncio.gather(*racing)
        async with wide.acquire() as conn:
            rows = await conn.fetchval("SELECT count(*) FROM bookings")
    finally:
        await wide.close()

    assert sorted(outcomes) == ["booked"] + ["taken"] * 9
    assert rows == 1
