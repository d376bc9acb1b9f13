"""The outbox wakes the workers through the database: a notification at commit, from a
trigger no code path can forget, heard by a worker that LISTENs and comes back when its
listening connection is lost. The poll here is ten minutes, so only a notification can
explain a delivery."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
import structlog

from consults import delivery_store
from consults.delivery import LISTENER_NAME, configure_webhook, new_webhook_secret, run_worker
from consults.webhook_address import webhook_connector
from spokes import store as spokes_store
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Network
from tests.integration.delivery_support import until

NOTICE = 0.5  # how long to listen for a notification that should not come


@pytest.fixture
async def heard(settings: Settings) -> AsyncIterator[asyncio.Queue[str]]:
    """Notifications on the outbox channel, as a listener in another process would hear them."""
    queue: asyncio.Queue[str] = asyncio.Queue()
    listener = await asyncpg.connect(settings.database_url)
    await listener.add_listener(delivery_store.CHANNEL, lambda *a: queue.put_nowait(a[2]))
    yield queue
    await listener.close()


async def _notified(queue: asyncio.Queue[str]) -> bool:
    """Whether a notification arrives soon; drains what came."""
    try:
        await asyncio.wait_for(queue.get(), NOTICE)
    except TimeoutError:
        return False
    while not queue.empty():
        queue.get_nowait()
    return True


async def _spoke_with_webhook(pool: asyncpg.Pool, network: Network, url: str) -> int:
    spoke = await network.spoke()
    async with pool.acquire() as conn:
        await spokes_store.set_webhook(
            conn, spoke.id, url=url, secret=new_webhook_secret(), full_payload=False
        )
    return spoke.id


async def _enqueue(conn: asyncpg.Connection, spoke_id: int) -> str:
    return await delivery_store.enqueue(
        conn, spoke_id=spoke_id, event_type="note.signed", payload={"type": "note.signed"}
    )


async def test_enqueueing_notifies_at_commit_and_a_rollback_notifies_nobody(
    pool: asyncpg.Pool, network: Network, heard: asyncio.Queue[str]
) -> None:
    spoke_id = await _spoke_with_webhook(pool, network, "http://127.0.0.1:9/hook")
    async with pool.acquire() as conn:
        transaction = conn.transaction()
        await transaction.start()
        await _enqueue(conn, spoke_id)
        assert not await _notified(heard)  # not before commit
        await transaction.commit()
        assert await _notified(heard)

        with contextlib.suppress(ZeroDivisionError):
            async with conn.transaction():
                await _enqueue(conn, spoke_id)
                raise ZeroDivisionError
        assert not await _notified(heard)


async def test_a_claim_and_a_failed_attempt_notify_nobody_a_retry_and_a_release_do(
    pool: asyncpg.Pool, network: Network, heard: asyncio.Queue[str]
) -> None:
    spoke_id = await _spoke_with_webhook(pool, network, "http://127.0.0.1:9/hook")
    async with pool.acquire() as conn:
        await _enqueue(conn, spoke_id)
        assert await _notified(heard)
        [claimed] = await delivery_store.claim_due(conn, [spoke_id], lease_seconds=60, limit=5)
        assert not await _notified(heard)
        await delivery_store.mark_failed_attempt(
            conn,
            claimed.id,
            status=500,
            error="HTTP 500",
            retry_in_seconds=600,
            give_up_after_days=1,
        )
        assert not await _notified(heard)
        assert await delivery_store.retry_now(conn, claimed.id) is not None
        assert await _notified(heard)

        [claimed] = await delivery_store.claim_due(conn, [spoke_id], lease_seconds=60, limit=5)
        await delivery_store.mark_failed_attempt(
            conn,
            claimed.id,
            status=500,
            error="HTTP 500",
            retry_in_seconds=600,
            give_up_after_days=1,
        )
        assert not await _notified(heard)
        assert await delivery_store.release_held(conn, spoke_id) == 1
        assert await _notified(heard)


async def test_a_clinics_first_endpoint_wakes_the_workers_for_what_waited(
    pool: asyncpg.Pool, network: Network, heard: asyncio.Queue[str]
) -> None:
    spoke = await network.spoke()
    async with pool.acquire() as conn:
        await _enqueue(conn, spoke.id)  # no endpoint yet: it waits in the inbox
        assert await _notified(heard)
        async with conn.transaction():
            await configure_webhook(
                conn,
                spoke.id,
                url="http://127.0.0.1:9/hook",
                full_payload=False,
                rotate=False,
                allow_private=True,
            )
        assert await _notified(heard)
        async with conn.transaction():  # the same endpoint again: nothing new may go
            await configure_webhook(
                conn,
                spoke.id,
                url="http://127.0.0.1:9/hook",
                full_payload=True,
                rotate=False,
                allow_private=True,
            )
        assert not await _notified(heard)


async def _listener_pids(pool: asyncpg.Pool) -> list[int]:
    rows = await pool.fetch(
        """
        SELECT pid FROM pg_stat_activity
        WHERE application_name = $1 AND datname = current_database()
        """,
        LISTENER_NAME,
    )
    return [r["pid"] for r in rows]


async def test_the_worker_wakes_on_the_notification_and_listens_again_after_losing_it(
    pool: asyncpg.Pool,
    network: Network,
    settings: Settings,
    receiver: tuple[str, list[bytes]],
) -> None:
    url, bodies = receiver
    spoke_id = await _spoke_with_webhook(pool, network, url)
    slow = dataclasses.replace(settings, outbox_poll=600.0)
    worker_pool = await create_pool(slow)
    session = aiohttp.ClientSession(connector=webhook_connector(allow_private=True))
    with structlog.testing.capture_logs() as logs:
        worker = asyncio.create_task(run_worker(worker_pool, session, slow), name="worker")
        try:
            [first_pid] = await until(lambda: _listener_pids(pool))
            await asyncio.sleep(0.2)  # the worker has looked once and now sleeps on the poll
            async with pool.acquire() as conn:
                await _enqueue(conn, spoke_id)
            await until(lambda: len(bodies) == 1)

            # The listening connection is killed: the worker connects again and hears the next one.
            await pool.execute("SELECT pg_terminate_backend($1)", first_pid)

            async def listening_again() -> list[int]:
                return [p for p in await _listener_pids(pool) if p != first_pid]

            await until(listening_again)
            await asyncio.sleep(0.2)
            async with pool.acquire() as conn:
                await _enqueue(conn, spoke_id)
            await until(lambda: len(bodies) == 2)
            assert not worker.done()
        finally:
            worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await worker
            await session.close()
            await worker_pool.close()

    lost = [e for e in logs if e["event"] == "webhook.listen_lost"]
    assert [(e["log_level"], e["failures"]) for e in lost] == [("warning", 1)]
    assert not [e for e in logs if "exc_info" in e or e["log_level"] in ("error", "critical")]
