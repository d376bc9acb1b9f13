"""Slot search costs the same few queries for one consultant and a day as for many and weeks."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg

from scheduling import availability
from scheduling.slots import Period
from tests.factories import Network

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


async def test_many_consultants_and_weeks_cost_no_more_queries_than_one_and_a_day(
    pool: asyncpg.Pool, network: Network
) -> None:
    small = await network.service()
    large = await network.service()
    await network.consultant([small])
    weekdays = tuple((d, time(9), time(17)) for d in range(5))
    for _ in range(12):
        await network.consultant([large], hours=weekdays)

    async with pool.acquire() as conn:
        # The first use of a connection also introspects types (tstzrange, arrays): warm it.
        await _counted(conn, small.id, days=1)
        few_queries, few_slots = await _counted(conn, small.id, days=1)
        many_queries, many_slots = await _counted(conn, large.id, days=28)

    assert many_slots > 100 * max(few_slots, 1)
    assert many_queries == few_queries <= 5


async def _counted(conn: asyncpg.Connection, service_id: int, days: int) -> tuple[int, int]:
    seen: list[str] = []

    def log(record: asyncpg.connection.LoggedQuery) -> None:
        seen.append(record.query)

    conn.add_query_logger(log)
    try:
        slots = await availability.search(
            conn,
            service_id=service_id,
            window=Period(NOW, NOW + timedelta(days=days)),
            consultant_id=None,
            patient_state="VT",
            now=NOW,
        )
    finally:
        conn.remove_query_logger(log)
    return len(seen), len(slots)
