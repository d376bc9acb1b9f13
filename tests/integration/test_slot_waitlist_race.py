"""Concurrent openings tell a waiting request of each slot once: two cancellations of the same
consultant's time at once, each in its own transaction on its own connection. The second waits
for the first's lock on the request (no deadlock, no error), then sees the first's slot as open
already and tells only its own."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime

import asyncpg

from scheduling import bookings, waitlist
from scheduling.waitlist import Wanted
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.factories import Clock, Network, SpokeUser, booking_in_store

MON_8 = [datetime(2027, 3, 8, h, 0, tzinfo=UTC) for h in (17, 18, 19)]  # 09:00-12:00 LA


def caller_of(spoke: SpokeUser) -> Caller:
    """The spoke's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


async def cancel(
    pool: asyncpg.Pool, spoke: SpokeUser, booking_id: uuid.UUID, clock: Clock, go: asyncio.Event
) -> None:
    async with pool.acquire() as conn, conn.transaction():
        await go.wait()
        await bookings.cancel(
            conn, caller_of(spoke), Trail("test"), booking_id, reason="Patient asked", now=clock.now
        )


async def test_two_cancellations_at_once_tell_each_slot_once(
    pool: asyncpg.Pool, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    service = await network.service()
    consultant = await network.consultant([service])
    clinic, waiting = await network.spoke(), await network.spoke()
    booked = []
    for start in MON_8:
        patient = await network.patient(clinic)
        booked.append(
            await booking_in_store(
                conn,
                service_id=service.id,
                consultant_id=consultant.id,
                spoke_id=clinic.id,
                patient_id=patient.id,
                start=start,
            )
        )
    request = await waitlist.join(
        conn,
        caller_of(waiting),
        Trail("test"),
        Wanted(service.id, None, None, "VT", date(2027, 3, 10)),
        now=clock.now,
    )

    for _ in range(3):
        go = asyncio.Event()
        racing = [
            asyncio.create_task(cancel(pool, clinic, booked.pop(), clock, go))
            for _ in range(min(2, len(booked)))
        ]
        if not racing:
            break
        await asyncio.sleep(0)
        go.set()
        await asyncio.gather(*racing)

    rows = await conn.fetch(
        """
        SELECT payload->'data'->'slot'->>'start' AS start FROM outbox
        WHERE event_type = 'slot.opened' AND payload->'data'->>'waitlist_id' = $1
        """,
        str(request.id),
    )
    starts = [r["start"] for r in rows]
    assert len(starts) == len(set(starts)) == 3  # each opened slot told once, none twice
