"""Two server processes on one database: one migrates, and no slot is booked twice."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from telehub.db import create_pool, migration_files
from tests.e2e.processes import Server, race_settings, running_servers
from tests.factories import Network, racing_bookings

pytestmark = pytest.mark.slow
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
async def servers(empty_database_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    """Two processes started at the same moment on one empty database."""
    async with running_servers(empty_database_url, tmp_path) as started:
        yield started


def _events(server: Server, name: str) -> list[dict[str, object]]:
    lines = server.log.read_text().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in events if e.get("event") == name]


async def test_two_processes_starting_together_migrate_once(
    servers: list[Server], empty_database_url: str
) -> None:
    conn = await asyncpg.connect(empty_database_url)
    try:
        applied = await conn.fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        await conn.close()
    assert [r["version"] for r in applied] == [v for v, _, _ in migration_files()]
    migrated = [len(_events(s, "db.migrated")) for s in servers]
    assert sorted(migrated) == [0, len(migration_files())]


async def test_fifty_bookings_for_one_slot_across_two_processes_make_one(
    servers: list[Server], empty_database_url: str
) -> None:
    settings = race_settings(empty_database_url)
    pool = await create_pool(settings)
    try:
        network = Network(pool, settings)
        svc = await network.service()
        consultant = await network.consultant([svc])
        # The servers run on the real clock: take a Monday 09:00 in Los Angeles a week or so out.
        today = datetime.now(LA).date() + timedelta(days=3)
        monday = today + timedelta(days=-today.weekday() % 7)
        monday_9_la = datetime.combine(monday, time(9), LA)
        racing = await racing_bookings(network, svc.id, consultant.id, monday_9_la, 50)
        attempts = [(servers[i % 2].url, b, h) for i, (b, h) in enumerate(racing)]

        async with aiohttp.ClientSession() as session:

            async def book(url: str, body: dict[str, object], headers: dict[str, str]) -> int:
                async with session.post(url + "/api/v1/bookings", json=body, headers=headers) as r:
                    return r.status

            statuses = await asyncio.gather(*(book(*a) for a in attempts))

        assert Counter(statuses) == {201: 1, 409: 49}
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
        handled = [len(_events(s, "request")) for s in servers]
        assert all(n >= 25 for n in handled), handled  # both processes really took part
    finally:
        await pool.close()
