"""Seats of a group raced for across two server processes: 50 clinics' patients for 8 seats
enrol exactly 8 (seats 1..8, 42 told group-full), and concurrent withdrawals hand each freed
seat to the next waiting patient exactly once."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from scheduling import group_seats
from telehub.audit import Trail
from telehub.db import create_pool
from tests.e2e.processes import Server, race_settings, running_servers
from tests.factories import Network
from tests.factories.groups import NOW, enrol, group, seats_held, spoke_caller

pytestmark = pytest.mark.slow
SEATS = 8
CLINICS = 50


@pytest.fixture
async def servers(database_url: str, tmp_path: Path) -> AsyncIterator[list[Server]]:
    """Two processes on one migrated database."""
    async with running_servers(database_url, tmp_path) as started:
        yield started


@pytest.fixture
async def network(database_url: str) -> AsyncIterator[Network]:
    """Factories on the servers' database (they run on the real clock)."""
    settings = race_settings(database_url)
    pool = await create_pool(settings)
    try:
        yield Network(pool, settings)
    finally:
        await pool.close()


async def post(
    session: aiohttp.ClientSession, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, dict[str, Any]]:
    """POST, sending the same request again while the server answers 503 (busy)."""
    while True:
        async with session.post(url, json=body, headers=headers) as r:
            answer: dict[str, Any] = await r.json(content_type=None)
            if r.status != 503:
                return r.status, answer
        await asyncio.sleep(float(r.headers.get("Retry-After", "1")))


async def test_fifty_clinics_racing_for_eight_seats_enrol_exactly_eight(
    servers: list[Server], network: Network
) -> None:
    made = await group(network, capacity=SEATS, count=3)
    attempts = []
    for i in range(CLINICS):
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        headers = {**spoke.headers, "Idempotency-Key": uuid.uuid4().hex}
        url = f"{servers[i % 2].url}/api/v1/groups/{made.id}/seats"
        attempts.append((url, {"patient_id": str(patient.id)}, headers))

    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(*(post(session, *a) for a in attempts))

    assert Counter(status for status, _ in answers) == {201: SEATS, 409: CLINICS - SEATS}
    assert {a["type"] for s, a in answers if s == 409} == {"/problems/group-full"}
    async with network.pool.acquire() as conn:
        assert await seats_held(conn, made.id) == {p: list(range(1, SEATS + 1)) for p in (1, 2, 3)}
        assert await conn.fetchval("SELECT count(*) FROM group_enrolments") == SEATS


async def _wait(conn: asyncpg.Connection, spoke: Any, group_id: uuid.UUID, patient: Any) -> None:
    caller = spoke_caller(spoke)
    async with conn.transaction():
        await group_seats.wait(conn, caller, Trail(caller.actor), group_id, patient.id, NOW)


async def test_concurrent_withdrawals_give_each_freed_seat_to_the_next_waiting_patient_once(
    servers: list[Server], network: Network
) -> None:
    made = await group(network, capacity=SEATS, count=3)
    seated = []
    for _ in range(SEATS):
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        seated.append((spoke, await enrol(network, spoke, made.id, patient.id)))
    waiting = []
    async with network.pool.acquire() as conn:
        for _ in range(12):
            spoke = await network.spoke()
            patient = await network.patient(spoke)
            await _wait(conn, spoke, made.id, patient)
            waiting.append((spoke, patient))
    leaving = seated[:6]

    async with aiohttp.ClientSession() as session:
        answers = await asyncio.gather(
            *(
                post(
                    session,
                    f"{servers[i % 2].url}/api/v1/groups/{made.id}/seats/{e.id}/withdraw",
                    {"from": 1},
                    spoke.headers,
                )
                for i, (spoke, e) in enumerate(leaving)
            )
        )

    assert [status for status, _ in answers] == [200] * len(leaving)
    async with network.pool.acquire() as conn:
        assert await seats_held(conn, made.id) == {p: list(range(1, SEATS + 1)) for p in (1, 2, 3)}
        open_ = await conn.fetch(
            "SELECT patient_id FROM group_enrolments WHERE withdrawn_from IS NULL"
        )
        statuses = await conn.fetch(
            "SELECT patient_id, status FROM group_waitlist ORDER BY created_at"
        )
        told = await conn.fetch(
            "SELECT spoke_id, payload->'data'->>'patient_id' AS patient FROM outbox"
        )
    enrolled = Counter(r["patient_id"] for r in open_)
    assert set(enrolled.values()) == {1}  # nobody enrolled twice
    first_six = {p.id for _, p in waiting[:6]}
    assert first_six <= set(enrolled)
    assert {p.id for _, p in waiting[6:]}.isdisjoint(enrolled)
    assert [r["status"] for r in statuses] == ["assigned"] * 6 + ["waiting"] * 6
    assert sorted((r["spoke_id"], r["patient"]) for r in told) == sorted(
        (s.id, str(p.id)) for s, p in waiting[:6]
    )
