"""Clinics racing for overlapping series across two server processes: one series is booked
whole, every other clinic gets 409, and no partial series is left anywhere."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from telehub.db import create_pool
from tests.e2e.processes import Server, race_settings, running_servers
from tests.factories import Network

pytestmark = pytest.mark.slow
LA = ZoneInfo("America/Los_Angeles")
CLINICS = 12


@pytest.fixture
async def servers(database_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    """Two processes on one migrated database."""
    async with running_servers(database_url, tmp_path) as started:
        yield started


async def test_overlapping_series_from_many_clinics_book_one_whole_series(
    servers: list[Server], database_url: str
) -> None:
    settings = race_settings(database_url)
    pool = await create_pool(settings)
    try:
        network = Network(pool, settings)
        service = await network.service(roles=["telehealth_counselor"])
        counselor = await network.consultant([service], role="telehealth_counselor")
        # The servers run on the real clock: a Monday 09:00 in Los Angeles a week or so out.
        soon = datetime.now(LA).date() + timedelta(days=3)
        monday = soon + timedelta(days=-soon.weekday() % 7)
        attempts = []
        for i in range(CLINICS):
            spoke = await network.spoke(timezone="America/Los_Angeles")
            patient = await network.patient(spoke)
            # Six weekly sessions from this Monday or the next two: any two series overlap.
            first = datetime.combine(monday + timedelta(weeks=i % 3), time(9), LA)
            body = {
                "service_id": service.id,
                "consultant_id": counselor.id,
                "patient_id": str(patient.id),
                "first_start": first.isoformat(),
                "repeat": "weekly",
                "count": 6,
            }
            headers = {**spoke.headers, "Idempotency-Key": uuid.uuid4().hex}
            attempts.append((servers[i % 2].url, body, headers))

        async with aiohttp.ClientSession() as session:

            async def book(
                url: str, body: dict[str, object], headers: dict[str, str]
            ) -> tuple[int, str]:
                async with session.post(url + "/api/v1/series", json=body, headers=headers) as r:
                    problem = await r.json(content_type=None)
                    return r.status, problem.get("type", "")

            answers = await asyncio.gather(*(book(*a) for a in attempts))

        assert Counter(status for status, _ in answers) == {201: 1, 409: CLINICS - 1}
        assert {kind for status, kind in answers if status == 409} == {"/problems/series-conflict"}
        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM series") == 1
            rows = await conn.fetch("SELECT series_id, series_position FROM bookings")
        assert len({r["series_id"] for r in rows}) == 1
        assert sorted(r["series_position"] for r in rows) == [1, 2, 3, 4, 5, 6]
    finally:
        await pool.close()
