"""Contested slots across two real server processes: one winner, quickly, never a 500.

Conflicting inserts under an exclusion constraint can deadlock in PostgreSQL, and a rollback
of the row they all wait for deadlocks every waiter: the fault runs saw 30-90 s stalls and
hundreds of 500s. Writes of one consultant's time now queue on an advisory lock.

Bounds on time here are generous on purpose (a shared two-core machine runs these): the
winner is expected in milliseconds, and the defect took 30 s or more.
"""

from __future__ import annotations

import asyncio
import json
import time as clock
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from scheduling import booking_store
from scheduling.bookings import blocked_period
from scheduling.slots import Period
from scheduling.store import Service
from telehub.db import create_pool
from tests.e2e.processes import Server, race_settings, running_servers
from tests.factories import Network, racing_bookings

pytestmark = pytest.mark.slow
LA = ZoneInfo("America/Los_Angeles")
# The winner answers within this many seconds of the slot coming free: a generous bound for
# a loaded machine, far below the 30-40 s the deadlocks took.
WINNER_WITHIN = 1.0
# Sessions of this database waiting on a lock (other test sessions may share the server).
WAITING_ON_LOCKS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


def _next_monday_9_la() -> datetime:
    # The servers run on the real clock: a Monday 09:00 in Los Angeles a week or so out.
    today = datetime.now(LA).date() + timedelta(days=3)
    return datetime.combine(today + timedelta(days=-today.weekday() % 7), time(9), LA)


@pytest.fixture
async def servers(empty_database_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    """Two processes on one database."""
    async with running_servers(empty_database_url, tmp_path) as started:
        yield started


@pytest.fixture
async def network(servers: list[Server], empty_database_url: str) -> AsyncIterator[Network]:
    """Factories on the servers' (migrated) database."""
    settings = race_settings(empty_database_url)
    pool = await create_pool(settings)
    try:
        yield Network(pool, settings)
    finally:
        await pool.close()


def _no_failures(servers: list[Server]) -> None:
    for server in servers:
        text = server.log.read_text()
        assert "Traceback" not in text
        events = [json.loads(line) for line in text.splitlines() if line.startswith("{")]
        assert not [e for e in events if e.get("event") == "request.failed"]


async def _post(
    session: aiohttp.ClientSession, url: str, body: dict[str, object], headers: dict[str, str]
) -> tuple[int, float]:
    async with session.post(url, json=body, headers=headers) as response:
        await response.read()
        return response.status, clock.monotonic()


async def _active_at(network: Network, consultant_id: int) -> int:
    async with network.pool.acquire() as conn:
        return int(
            await conn.fetchval(
                "SELECT count(*) FROM bookings WHERE consultant_id = $1 AND status <> 'cancelled'",
                consultant_id,
            )
        )


async def _hold(
    network: Network, holder: asyncpg.Connection, svc: Service, consultant_id: int, start: datetime
) -> None:
    """In `holder`'s open transaction, insert a booking row for the slot (uncommitted)."""
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    period = Period(start, start + timedelta(minutes=svc.duration_minutes))
    await booking_store.insert_booking(
        holder,
        service_id=svc.id,
        consultant_id=consultant_id,
        spoke_id=spoke.id,
        patient_id=patient.id,
        period=period,
        blocked=blocked_period(svc, period),
        reason="",
        video_link=None,
        created_by="holder",
    )


async def test_ten_clients_waiting_on_a_holder_that_rolls_back_make_one_booking_at_once(
    servers: list[Server], network: Network
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc])
    nine = _next_monday_9_la()
    racing = await racing_bookings(network, svc.id, consultant.id, nine, 10)

    async with network.pool.acquire() as holder, aiohttp.ClientSession() as session:
        transaction = holder.transaction()
        await transaction.start()
        await _hold(network, holder, svc, consultant.id, nine)
        posts = [
            asyncio.create_task(
                _post(session, servers[i % 2].url + "/api/v1/bookings", body, headers)
            )
            for i, (body, headers) in enumerate(racing)
        ]
        await _until_waiting(network.pool, 10)
        await transaction.rollback()
        rolled_back = clock.monotonic()
        answers = await asyncio.gather(*posts)

    assert Counter(status for status, _ in answers) == {201: 1, 409: 9}
    (won_at,) = [at for status, at in answers if status == 201]
    assert won_at - rolled_back < WINNER_WITHIN
    assert await _active_at(network, consultant.id) == 1
    _no_failures(servers)


async def _until_waiting(pool: asyncpg.Pool, count: int) -> None:
    """Until `count` backends wait on a lock (the holder's row, or their turn)."""
    for _ in range(300):
        # Not in the holder's transaction: activity statistics are frozen per transaction.
        waiting = await pool.fetchval(WAITING_ON_LOCKS)
        if waiting >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"only {waiting} of {count} requests came to wait")


async def test_twenty_clients_on_a_hot_slot_make_one_booking_every_round(
    servers: list[Server], network: Network
) -> None:
    svc = await network.service()
    nine = _next_monday_9_la()
    for _ in range(5):
        consultant = await network.consultant([svc])
        racing = await racing_bookings(network, svc.id, consultant.id, nine, 20)
        async with aiohttp.ClientSession() as session:
            started = clock.monotonic()
            answers = await asyncio.gather(
                *(
                    _post(session, servers[i % 2].url + "/api/v1/bookings", body, headers)
                    for i, (body, headers) in enumerate(racing)
                )
            )

        assert Counter(status for status, _ in answers) == {201: 1, 409: 19}
        (won_at,) = [at for status, at in answers if status == 201]
        # Twenty requests through two processes on a shared machine: seconds at most.
        assert won_at - started < 5 * WINNER_WITHIN
        assert await _active_at(network, consultant.id) == 1
    _no_failures(servers)


async def test_a_reschedule_racing_nine_bookings_onto_a_time_that_frees_leaves_one_winner(
    servers: list[Server], network: Network
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc])
    nine = _next_monday_9_la()
    mover = await network.spoke()
    patient = await network.patient(mover)
    async with aiohttp.ClientSession() as session:
        async with session.post(
            servers[0].url + "/api/v1/bookings",
            json={
                "service_id": svc.id,
                "consultant_id": consultant.id,
                "patient_id": str(patient.id),
                "start": (nine + timedelta(hours=1)).isoformat(),
            },
            headers={**mover.headers, "Idempotency-Key": "to-move"},
        ) as booked:
            assert booked.status == 201, await booked.text()
            booking_id = (await booked.json())["id"]
        racing = await racing_bookings(network, svc.id, consultant.id, nine, 9)

        async with network.pool.acquire() as holder:
            # The target time is held by a transaction that will roll back: every racer
            # piles up behind it, as when a slot frees under load.
            transaction = holder.transaction()
            await transaction.start()
            await _hold(network, holder, svc, consultant.id, nine)
            posts = [
                asyncio.create_task(
                    _post(
                        session,
                        servers[1].url + f"/api/v1/bookings/{booking_id}/reschedule",
                        {"start": nine.isoformat()},
                        mover.headers,
                    )
                ),
                *(
                    asyncio.create_task(
                        _post(session, servers[i % 2].url + "/api/v1/bookings", body, headers)
                    )
                    for i, (body, headers) in enumerate(racing)
                ),
            ]
            await _until_waiting(network.pool, 10)
            await transaction.rollback()
            rolled_back = clock.monotonic()
            answers = await asyncio.gather(*posts)

    statuses = Counter(status for status, _ in answers)
    assert statuses[409] == 9, statuses
    assert statuses[200] + statuses[201] == 1, statuses
    (won_at,) = [at for status, at in answers if status in (200, 201)]
    assert won_at - rolled_back < WINNER_WITHIN
    async with network.pool.acquire() as conn:
        at_nine = await conn.fetchval(
            """
            SELECT count(*) FROM bookings
            WHERE consultant_id = $1 AND status <> 'cancelled' AND lower(period) = $2
            """,
            consultant.id,
            nine,
        )
    assert at_nine == 1
    _no_failures(servers)
