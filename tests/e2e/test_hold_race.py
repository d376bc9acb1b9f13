"""Slot holds across two server processes on one database: many clinics hold one slot at the
same moment and exactly one gets it; the others cannot book it while it is held."""

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
from tests.factories import Network, booking_body, iso

pytestmark = pytest.mark.slow
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
async def servers(empty_database_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    """Two processes on one empty database."""
    async with running_servers(empty_database_url, tmp_path) as started:
        yield started


async def test_clinics_holding_one_slot_across_two_processes_leave_one_hold(
    servers: list[Server], empty_database_url: str
) -> None:
    settings = race_settings(empty_database_url)
    pool = await create_pool(settings)
    try:
        network = Network(pool, settings)
        svc = await network.service()
        consultant = await network.consultant([svc])
        # The servers run on the real clock: a Monday 09:00 in Los Angeles a week or so out.
        today = datetime.now(LA).date() + timedelta(days=3)
        monday = today + timedelta(days=-today.weekday() % 7)
        start = datetime.combine(monday, time(9), LA)
        clinics = [await network.spoke() for _ in range(20)]
        patients = [await network.patient(c) for c in clinics]
        body = {"service_id": svc.id, "consultant_id": consultant.id, "start": iso(start)}

        async with aiohttp.ClientSession() as session:

            async def hold(i: int) -> tuple[int, dict[str, object]]:
                headers = {**clinics[i].headers, "Idempotency-Key": uuid.uuid4().hex}
                url = servers[i % 2].url + "/api/v1/holds"
                async with session.post(url, json=body, headers=headers) as r:
                    return r.status, await r.json(content_type=None)

            answers = await asyncio.gather(*(hold(i) for i in range(len(clinics))))
            assert Counter(status for status, _ in answers) == {201: 1, 409: 19}
            winner = next(i for i, (status, _) in enumerate(answers) if status == 201)
            held = answers[winner][1]
            loser = (winner + 1) % len(clinics)

            # Another clinic can neither book the hold (404: not theirs) nor its slot (409).
            async def book(i: int, extra: dict[str, object]) -> int:
                payload = {
                    **booking_body(
                        service_id=svc.id,
                        consultant_id=consultant.id,
                        patient_id=patients[i].id,
                        start=start,
                    ),
                    **extra,
                }
                headers = {**clinics[i].headers, "Idempotency-Key": uuid.uuid4().hex}
                url = servers[i % 2].url + "/api/v1/bookings"
                async with session.post(url, json=payload, headers=headers) as r:
                    return r.status

            assert await book(loser, {"hold_id": held["id"]}) == 404
            assert await book(loser, {}) == 409
            # The clinic that holds it books it, through the other process.
            booked_on = servers[(winner + 1) % 2].url + "/api/v1/bookings"
            payload = {"patient_id": str(patients[winner].id), "hold_id": held["id"]}
            headers = {**clinics[winner].headers, "Idempotency-Key": uuid.uuid4().hex}
            async with session.post(booked_on, json=payload, headers=headers) as r:
                assert r.status == 201, await r.text()
                booking = await r.json()

        async with pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
            row = await conn.fetchrow("SELECT status, booking_id FROM slot_holds")
            assert await conn.fetchval("SELECT count(*) FROM slot_holds") == 1
            assert row is not None
            assert (row["status"], str(row["booking_id"])) == ("booked", booking["id"])
            # The hold's minutes went to the booking: one row holds the consultant's time.
            assert await conn.fetchval("SELECT count(*) FROM consultant_holds") == 1
    finally:
        await pool.close()
