"""Slot search with `limit`: exactly the first N of the whole answer, read a chunk of the window
at a time, and no more of the window read than it takes to find them."""

from __future__ import annotations

import random
from datetime import UTC, datetime, time, timedelta

import asyncpg

from scheduling import availability
from scheduling.slots import Period, Slot
from tests.factories import Network
from tests.factories.slot_edges import service_with_edges

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


async def test_the_first_n_are_the_first_n_of_the_whole_answer_whatever_the_window(
    pool: asyncpg.Pool, network: Network
) -> None:
    service = await service_with_edges(network, min_notice_minutes=90, horizon_days=80)
    draw = random.Random(16)
    async with pool.acquire() as conn:
        for _ in range(60):
            start = NOW + timedelta(minutes=draw.randrange(-3 * 1440, 50 * 1440))
            window = Period(start, start + timedelta(minutes=draw.randrange(60, 92 * 1440)))
            whole = await _search(conn, service.id, window, None)
            for limit in {1, draw.randrange(1, 40), draw.randrange(1, 400), len(whole) + 1}:
                first = await _search(conn, service.id, window, limit)
                assert first == whole[:limit], (window, limit)


async def test_the_first_five_cost_as_many_queries_over_92_days_as_over_7(
    pool: asyncpg.Pool, network: Network
) -> None:
    service = await network.service()
    weekdays = tuple((d, time(9), time(17)) for d in range(5))
    for _ in range(3):
        await network.consultant([service], hours=weekdays)

    async with pool.acquire() as conn:
        # The first use of a connection also introspects types (tstzrange, arrays): warm it.
        await _counted(conn, service.id, days=1, limit=None)
        week, week_slots = await _counted(conn, service.id, days=7, limit=5)
        quarter, quarter_slots = await _counted(conn, service.id, days=92, limit=5)
        whole_day, _ = await _counted(conn, service.id, days=1, limit=None)

    assert quarter_slots == week_slots and len(week_slots) == 5
    assert week_slots[0].start.date() == NOW.date()
    # One chunk read, the first day: as many queries as a search without limit of one day.
    assert quarter == week == whole_day


async def _search(
    conn: asyncpg.Connection, service_id: int, window: Period, limit: int | None
) -> list[Slot]:
    return await availability.search(
        conn,
        service_id=service_id,
        window=window,
        consultant_id=None,
        patient_state="VT",
        now=NOW,
        limit=limit,
    )


async def _counted(
    conn: asyncpg.Connection, service_id: int, *, days: int, limit: int | None
) -> tuple[int, list[Slot]]:
    seen: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        seen.append(record.query)

    conn.add_query_logger(log)
    try:
        slots = await _search(conn, service_id, Period(NOW, NOW + timedelta(days=days)), limit)
    finally:
        conn.remove_query_logger(log)
    return len(seen), slots
