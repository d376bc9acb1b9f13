"""The delivery worker outlives a database it cannot use: it waits, says so in one line per
failure without a traceback, and delivers once the database answers again. A bug in its own
SQL is no outage: it is logged as a crash, with its traceback, and the worker still goes on."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from typing import Any

import aiohttp
import asyncpg
import pytest
import structlog

from consults import delivery_store
from consults.delivery import new_webhook_secret, run_worker
from consults.webhook_address import webhook_connector
from spokes import store as spokes_store
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Network
from tests.integration.delivery_support import until


@pytest.fixture
def tight(settings: Settings) -> Settings:
    """One connection, a short wait for it, short statements, a fast poll."""
    return dataclasses.replace(
        settings,
        db_pool_min=1,
        db_pool_max=1,
        db_acquire_timeout=0.1,
        db_statement_timeout_ms=200,
        outbox_poll=0.02,
    )


async def _one_event(pool: asyncpg.Pool, network: Network, url: str) -> None:
    spoke = await network.spoke()
    async with pool.acquire() as conn:
        await spokes_store.set_webhook(
            conn, spoke.id, url=url, secret=new_webhook_secret(), full_payload=False
        )
        await delivery_store.enqueue(
            conn, spoke_id=spoke.id, event_type="note.signed", payload={"type": "note.signed"}
        )


async def _delivered(pool: asyncpg.Pool) -> bool:
    async with pool.acquire() as conn:
        return bool(await conn.fetchval("SELECT delivered_at IS NOT NULL FROM outbox"))


@pytest.mark.parametrize("fault", ["pool-exhausted", "statement-timeout"])
async def test_the_worker_waits_out_the_database_without_tracebacks_then_delivers(
    pool: asyncpg.Pool,
    network: Network,
    tight: Settings,
    receiver: tuple[str, list[bytes]],
    fault: str,
) -> None:
    url, bodies = receiver
    await _one_event(pool, network, url)
    worker_pool = await create_pool(tight)
    blocker: asyncpg.Connection | None = None
    held: Any = None
    if fault == "pool-exhausted":
        held = await worker_pool.acquire()  # the worker's only connection
    else:
        # The worker's claim waits on this lock until its statement timeout cancels it.
        blocker = await asyncpg.connect(tight.database_url)
        await blocker.execute("BEGIN; LOCK TABLE outbox IN ACCESS EXCLUSIVE MODE")
    session = aiohttp.ClientSession(connector=webhook_connector(allow_private=True))
    with structlog.testing.capture_logs() as logs:
        worker = asyncio.create_task(run_worker(worker_pool, session, tight), name="worker")
        try:

            def waits() -> list[dict[str, Any]]:
                found = [e for e in logs if e["event"] == "webhook.worker_waiting"]
                return found if len(found) >= 3 else []

            waited = await until(waits)
            assert not worker.done()
            assert bodies == []
            if blocker is not None:
                await blocker.execute("ROLLBACK")
            else:
                await worker_pool.release(held)
                held = None
            await until(lambda: _delivered(pool))
            assert not worker.done()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await session.close()
            if blocker is not None:
                await blocker.close()
            if held is not None:
                await worker_pool.release(held)
            await worker_pool.close()

    assert len(bodies) == 1
    assert [e["failures"] for e in waited[:3]] == [1, 2, 3]
    assert waited[0]["retry_in"] < waited[1]["retry_in"] < waited[2]["retry_in"]  # backs off
    assert not [e for e in logs if e["event"] == "webhook.worker_crashed"]
    assert not [e for e in logs if "exc_info" in e or e["log_level"] in ("error", "critical")]
    # One warning line per failure: the database layer's, or the worker's own.
    failures = max(e["failures"] for e in logs if e["event"] == "webhook.worker_waiting")
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert len(warnings) == failures, warnings


async def test_a_broken_query_is_a_crash_with_its_traceback_each_time_and_the_worker_goes_on(
    pool: asyncpg.Pool,
    network: Network,
    tight: Settings,
    receiver: tuple[str, list[bytes]],
) -> None:
    url, bodies = receiver
    await _one_event(pool, network, url)
    # The claim's UPDATE now names a column that does not exist: UndefinedColumnError, the
    # kind of mistake a release could ship. It is no outage, and waiting will not fix it.
    await pool.execute("ALTER TABLE outbox RENAME COLUMN leased_until TO leased_until_gone")
    worker_pool = await create_pool(tight)
    session = aiohttp.ClientSession(connector=webhook_connector(allow_private=True))
    with structlog.testing.capture_logs() as logs:
        worker = asyncio.create_task(run_worker(worker_pool, session, tight), name="worker")
        try:

            def crashes() -> list[dict[str, Any]]:
                found = [e for e in logs if e["event"] == "webhook.worker_crashed"]
                return found if len(found) >= 3 else []

            crashed = await until(crashes)
            assert not worker.done()
            assert bodies == []
            await pool.execute("ALTER TABLE outbox RENAME COLUMN leased_until_gone TO leased_until")
            await until(lambda: _delivered(pool))
            assert not worker.done()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await session.close()
            await worker_pool.close()

    assert len(bodies) == 1
    for event in crashed:
        assert event["log_level"] == "error"
        assert event["exc_info"] is True  # rendered as the traceback
        assert event["error"].startswith("UndefinedColumnError: "), event
    assert [e["failures"] for e in crashed[:3]] == [1, 2, 3]
    assert crashed[0]["retry_in"] < crashed[1]["retry_in"] < crashed[2]["retry_in"]  # backs off
    # Once per occurrence: one line per failure, the crash, and no "waiting" for an outage.
    failures = max(e["failures"] for e in logs if e["event"] == "webhook.worker_crashed")
    assert [e["event"] for e in logs if e["log_level"] != "info"] == [
        "webhook.worker_crashed"
    ] * failures
    assert not [e for e in logs if e["event"] == "webhook.worker_waiting"]
