"""A database that is slow, full or busy answers 503 with Retry-After, never 500."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Clock, Network, bookable, booking_body

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """A statement timeout short enough to reach in a test; the client's bound just above."""
    return replace(settings, db_statement_timeout_ms=300, db_command_timeout=3.0)


async def _booking_request(network: Network) -> tuple[dict[str, object], dict[str, str]]:
    svc, consultant, spoke, patient = await bookable(network)
    body = booking_body(
        service_id=svc.id, consultant_id=consultant.id, patient_id=patient.id, start=MONDAY_9_LA
    )
    return body, {**spoke.headers, "Idempotency-Key": "after-a-timeout"}


async def test_a_statement_timeout_answers_503_with_retry_after_and_keeps_nothing(
    client: TestClient, network: Network, pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    body, headers = await _booking_request(network)

    async with pool.acquire() as blocker, blocker.transaction():
        # The booking's INSERT waits behind this lock until its statement times out.
        await blocker.execute("LOCK TABLE bookings IN EXCLUSIVE MODE")
        timed_out = await client.post("/api/v1/bookings", json=body, headers=headers)

        assert timed_out.status == 503
        assert timed_out.headers["Retry-After"] == "1"
        assert timed_out.content_type == "application/problem+json"
        assert (await timed_out.json())["type"] == "/problems/unavailable"

    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
    assert await conn.fetchval("SELECT count(*) FROM idempotency_keys") == 0
    # As the README says: a refusal (a 503 too) keeps no key, so the retry runs again.
    retried = await client.post("/api/v1/bookings", json=body, headers=headers)
    assert retried.status == 201
    assert "Idempotent-Replayed" not in retried.headers


@asynccontextmanager
async def _connected(url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(url)
    try:
        yield conn
    finally:
        await conn.close()


@pytest.fixture
async def limited_url(admin_url: str, database_url: str) -> AsyncIterator[str]:
    """This test's database as a role allowed only one connection at a time."""
    role = "limited_" + uuid.uuid4().hex[:12]
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'limited' CONNECTION LIMIT 1")
        async with _connected(database_url) as conn:
            await conn.execute(f"GRANT ALL ON ALL TABLES IN SCHEMA public TO {role}")
        yield re.sub(r"^postgresql://[^@/]*@", f"postgresql://{role}:limited@", database_url)
    finally:
        await admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1", role
        )
        async with _connected(database_url) as conn:
            await conn.execute(f"DROP OWNED BY {role}")  # its grants, so the role can go
        await admin.execute(f"DROP ROLE IF EXISTS {role}")
        await admin.close()


@pytest.fixture
async def one_connection_client(
    limited_url: str, settings: Settings, aiohttp_client: AiohttpClient, clock: Clock
) -> AsyncIterator[tuple[TestClient, asyncpg.Pool]]:
    """The app on a pool that may grow to 3 connections where the server allows only 1."""
    small = replace(
        settings,
        database_url=limited_url,
        db_pool_min=1,
        db_pool_max=3,
        db_acquire_timeout=1.0,
        delivery_workers=False,  # the one connection is the test's to hold
    )
    pool = await create_pool(small)
    try:
        yield await aiohttp_client(create_app(small, pool=pool, clock=clock)), pool
    finally:
        await pool.close()


async def test_too_many_clients_answers_503_and_readyz_503_not_500(
    one_connection_client: tuple[TestClient, asyncpg.Pool],
) -> None:
    client, pool = one_connection_client

    async with pool.acquire():  # the one connection the server allows is busy
        ready = await client.get("/readyz")
        assert ready.status == 503
        assert ready.headers["Retry-After"] == "1"

    assert (await client.get("/readyz")).status == 200


async def test_a_pooled_connection_that_comes_back_serves_a_request_refused_more_room(
    one_connection_client: tuple[TestClient, asyncpg.Pool],
) -> None:
    client, pool = one_connection_client
    held = await pool.acquire()
    ready = asyncio.create_task(client.get("/readyz"))
    await asyncio.sleep(0.2)  # it asks the server for a second connection and is refused
    await pool.release(held)

    assert (await ready).status == 200
