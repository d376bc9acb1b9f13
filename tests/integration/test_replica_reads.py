"""Slot searches on a real streaming replica: served there while it is up and close behind,
by the primary (logged once) when it is stopped or lagging; bookings always check the primary,
so a slot the replica still shows as open is refused to a second clinic."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from telehub.db import Replica, create_pool, create_replica_pool, reading
from telehub.keys import REPLICA
from telehub.settings import Settings
from tests.e2e.own_postgres import OwnPostgres
from tests.factories import Network
from tests.factories.records import book, bookable, booking, booking_body, slot_starts
from tests.log_capture import log_lines_fixture, logged
from tests.replica_support import (
    DATABASE,
    ReplicaPostgres,
    caught_up,
    in_recovery,
    primary_and_replica,
    replay_paused,
)

pytestmark = pytest.mark.slow
log_lines = log_lines_fixture
FIRST_SLOT = "2027-03-08T17:00:00Z"  # Monday 09:00 in Los Angeles, the factory's first hour


@pytest.fixture(scope="module")
def clusters() -> Iterator[tuple[OwnPostgres, ReplicaPostgres]]:
    """A primary with a migrated database, and its streaming replica, running."""
    primary, replica = primary_and_replica()
    try:
        yield primary, replica
    finally:
        replica.remove()
        primary.remove()


@pytest.fixture
def settings(clusters: tuple[OwnPostgres, ReplicaPostgres]) -> Settings:
    """Settings whose reads may go to the replica."""
    primary, replica = clusters
    return Settings(
        database_url=primary.url(DATABASE),
        database_replica_url=replica.url(DATABASE),
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://telehub.test",
        db_pool_min=1,
        db_pool_max=10,
        log_json=True,
        delivery_workers=False,
        replica_max_lag_seconds=60,  # a paused replay must not count as lag here
    )


@pytest.fixture
async def replica_pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """A pool on the replica, as the app makes it."""
    pool = await create_replica_pool(settings)
    yield pool
    await pool.close()


def _replica(client: TestClient) -> Replica:
    return client.server.app[REPLICA]


async def test_the_replica_is_a_streaming_standby(settings: Settings) -> None:
    assert settings.database_replica_url is not None
    assert await in_recovery(settings.database_replica_url)
    assert not await in_recovery(settings.database_url)


async def test_reading_gives_a_replica_connection(
    pool: asyncpg.Pool, replica_pool: asyncpg.Pool, settings: Settings
) -> None:
    replica = Replica(replica_pool, settings.replica_max_lag_seconds)
    async with reading(pool, replica, 2.0) as conn:
        standby = await conn.fetchval("SELECT pg_is_in_recovery()")
        name = await conn.fetchval("SELECT current_setting('application_name')")
    assert (standby, name) == (True, "telehub-replica")
    async with reading(pool, None, 2.0) as conn:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
    assert (replica.served, replica.fell_back) == (1, 0)


async def test_a_search_is_served_by_the_replica(
    client: TestClient, network: Network, settings: Settings
) -> None:
    made = await bookable(network)
    await caught_up(settings.database_url, str(settings.database_replica_url))
    before = _replica(client).served
    starts = await slot_starts(client, made.spoke.headers, made.service.id)
    assert FIRST_SLOT.replace("Z", "+00:00") in [_utc(s) for s in starts]
    assert _replica(client).served == before + 1
    assert _replica(client).down is None


async def test_a_slot_the_lagging_replica_still_offers_is_refused_to_a_second_clinic(
    client: TestClient, network: Network, settings: Settings
) -> None:
    made = await bookable(network)
    other = await network.spoke()
    other_patient = await network.patient(other)
    await caught_up(settings.database_url, str(settings.database_replica_url))
    async with replay_paused(str(settings.database_replica_url)):
        await booking(
            client,
            made.spoke,
            service_id=made.service.id,
            consultant_id=made.consultant.id,
            patient_id=made.patient.id,
            start=FIRST_SLOT,
        )
        # The replica has not replayed the booking: the search still offers the time...
        offered = [_utc(s) for s in await slot_starts(client, other.headers, made.service.id)]
        assert _utc(FIRST_SLOT) in offered
        assert _replica(client).down is None
        # ...and the booking, checked on the primary, refuses it.
        body = booking_body(
            service_id=made.service.id,
            consultant_id=made.consultant.id,
            patient_id=other_patient.id,
            start=FIRST_SLOT,
        )
        refused = await book(client, other, body)
        assert refused.status == 409, await refused.text()
    await caught_up(settings.database_url, str(settings.database_replica_url))
    offered = [_utc(s) for s in await slot_starts(client, other.headers, made.service.id)]
    assert _utc(FIRST_SLOT) not in offered


async def test_a_replica_lagging_beyond_the_limit_is_passed_over_once_logged(
    pool: asyncpg.Pool, replica_pool: asyncpg.Pool, settings: Settings, log_lines: io.StringIO
) -> None:
    replica = Replica(replica_pool, max_lag=0.2, check_every=0.0)
    async with replay_paused(str(settings.database_replica_url)):
        await pool.execute("SELECT txid_current()")  # a commit the replica receives, unplayed
        await asyncio.sleep(0.5)
        for _ in range(3):
            async with reading(pool, replica, 2.0) as conn:
                assert await conn.fetchval("SELECT pg_is_in_recovery()") is False
    assert replica.fell_back == 3
    assert replica.down == "lagging"
    fallbacks = [e for e in logged(log_lines) if e["event"] == "db.replica_fallback"]
    assert [e["reason"] for e in fallbacks] == ["lagging"]
    await caught_up(settings.database_url, str(settings.database_replica_url))
    async with reading(pool, replica, 2.0) as conn:
        assert await conn.fetchval("SELECT pg_is_in_recovery()") is True
    assert replica.down is None
    assert "db.replica_restored" in [e["event"] for e in logged(log_lines)]


async def test_searches_still_answer_with_the_replica_stopped(
    client: TestClient,
    network: Network,
    settings: Settings,
    clusters: tuple[OwnPostgres, ReplicaPostgres],
    log_lines: io.StringIO,
) -> None:
    made = await bookable(network)
    await caught_up(settings.database_url, str(settings.database_replica_url))
    assert await slot_starts(client, made.spoke.headers, made.service.id)
    replica_server = clusters[1]
    replica_server.stop()
    try:
        for _ in range(4):
            starts = await slot_starts(client, made.spoke.headers, made.service.id)
            assert _utc(FIRST_SLOT) in [_utc(s) for s in starts]
        fallbacks = [e for e in logged(log_lines) if e["event"] == "db.replica_fallback"]
        assert len(fallbacks) == 1, fallbacks
        assert str(fallbacks[0]["reason"]).startswith(("unreachable", "lost"))
        assert _replica(client).down is not None
    finally:
        replica_server.start()
    _replica(client).check_every = 0.0  # look again at once rather than in a second
    await caught_up(settings.database_url, str(settings.database_replica_url))
    await slot_starts(client, made.spoke.headers, made.service.id)
    assert _replica(client).down is None


async def test_a_pool_on_the_primary_is_not_taken_for_a_replica(settings: Settings) -> None:
    primary_pool = await create_pool(settings)
    try:
        replica = Replica(primary_pool, 5.0)
        assert await replica.begin(2.0) is None
        assert replica.down == "not in recovery"
    finally:
        await primary_pool.close()


def _utc(text: str) -> str:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC).isoformat()


def test_the_replica_is_configured_from_the_environment() -> None:
    env = {"DATABASE_URL": "postgresql://db/telehub", "TELEHUB_SECRET_KEY": "k" * 32}
    assert Settings.from_env(env).database_replica_url is None
    env["TELEHUB_DATABASE_REPLICA_URL"] = "postgresql://replica/telehub"
    env["TELEHUB_REPLICA_MAX_LAG_SECONDS"] = "2.5"
    settings = Settings.from_env(env)
    assert (settings.database_replica_url, settings.replica_max_lag_seconds) == (
        "postgresql://replica/telehub",
        2.5,
    )


async def test_the_lag_is_checked_again_under_steady_reads(
    pool: asyncpg.Pool, replica_pool: asyncpg.Pool, settings: Settings
) -> None:
    replica = Replica(replica_pool, max_lag=0.2, check_every=0.3)
    async with replay_paused(str(settings.database_replica_url)):
        await pool.execute("SELECT txid_current()")  # a commit the replica receives, unplayed
        for _ in range(40):  # reads every 50 ms, never a gap as long as check_every
            async with reading(pool, replica, 2.0):
                pass
            await asyncio.sleep(0.05)
    assert replica.down == "lagging"
    await caught_up(settings.database_url, str(settings.database_replica_url))
