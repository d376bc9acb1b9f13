"""Retries run for days, then an event is kept as failed, never dropped."""

from __future__ import annotations

import asyncpg

from consults import delivery_store
from tests.factories import Network


async def test_an_event_is_retried_inside_the_window_and_kept_as_failed_after_it(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    for age in ("1 day", "3 days 23 hours", "4 days 1 hour"):
        await delivery_store.enqueue(conn, spoke_id=spoke.id, event_type=age, payload={})
        await conn.execute(
            f"UPDATE outbox SET created_at = now() - interval '{age}' WHERE event_type = $1", age
        )
    for delivery_id in await conn.fetch("SELECT id FROM outbox"):
        await delivery_store.mark_failed_attempt(
            conn,
            delivery_id["id"],
            status=500,
            error="HTTP 500",
            retry_in_seconds=60,
            give_up_after_days=4,
        )

    rows = {r["event_type"]: r for r in await conn.fetch("SELECT * FROM outbox")}
    assert rows["1 day"]["failed_at"] is None
    assert rows["3 days 23 hours"]["failed_at"] is None  # still retried after three days
    assert rows["4 days 1 hour"]["failed_at"] is not None
    assert len(rows) == 3  # nothing is dropped
    failed = await delivery_store.list_deliveries(conn, state="failed", spoke_id=None, limit=10)
    assert [d.event_type for d in failed] == ["4 days 1 hour"]
