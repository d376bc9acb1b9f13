"""The same withdrawal sent twice at once (a double click, a retry without its key): one frees
the seat, the other is refused, and the freed seat goes to one waiting patient, once."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from scheduling import group_seats
from telehub.audit import Trail
from telehub.errors import Conflict
from tests.factories import Network, SpokeUser
from tests.factories.groups import NOW, enrol, group, seats_held, spoke_caller


async def _withdraw(
    pool: asyncpg.Pool, spoke: SpokeUser, group_id: uuid.UUID, enrolment_id: uuid.UUID
) -> str:
    caller = spoke_caller(spoke)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await group_seats.withdraw(
                conn, caller, Trail(caller.actor), group_id, enrolment_id, 1, NOW
            )
    except Conflict:
        return "refused"
    return "withdrawn"


async def test_a_withdrawal_sent_twice_at_once_frees_one_seat_for_one_waiting_patient(
    pool: asyncpg.Pool, network: Network
) -> None:
    made = await group(network, capacity=2, count=2)
    spoke = await network.spoke()
    seated = [await enrol(network, spoke, made.id, (await network.patient(spoke)).id) for _ in "ab"]
    waiting_spoke = await network.spoke()
    waiting = [await network.patient(waiting_spoke) for _ in "ab"]
    caller = spoke_caller(waiting_spoke)
    async with pool.acquire() as conn:
        for p in waiting:
            async with conn.transaction():
                await group_seats.wait(conn, caller, Trail(caller.actor), made.id, p.id, NOW)

    outcomes = await asyncio.gather(
        *(_withdraw(pool, spoke, made.id, seated[0].id) for _ in range(2))
    )

    assert sorted(outcomes) == ["refused", "withdrawn"]
    async with pool.acquire() as conn:
        assigned = await conn.fetch(
            "SELECT patient_id FROM group_waitlist WHERE status = 'assigned'"
        )
        assert [r["patient_id"] for r in assigned] == [waiting[0].id]
        assert await seats_held(conn, made.id) == {1: [1, 2], 2: [1, 2]}
        assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
