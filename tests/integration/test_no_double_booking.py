"""The exclusion constraint alone refuses overlaps, under real concurrent transactions."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import asyncpg

from scheduling import booking_store
from scheduling.slots import Period
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Network

NINE = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


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
    svc = await network.service()
    consultant = await network.consultant([svc])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
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
