"""Once one delivery to a clinic's endpoint succeeds, its other pending events go at once."""

from __future__ import annotations

from datetime import datetime

import asyncpg

from consults import delivery_store
from tests.factories import Network


async def _event(conn: asyncpg.Connection, spoke_id: int, name: str, setup: str) -> None:
    """One event, then `setup` (SQL setting its state) applied to it."""
    await delivery_store.enqueue(conn, spoke_id=spoke_id, event_type=name, payload={})
    await conn.execute(f"UPDATE outbox SET {setup} WHERE event_type = $1", name)


async def _next_attempts(conn: asyncpg.Connection) -> dict[str, datetime]:
    rows = await conn.fetch("SELECT event_type, next_attempt_at FROM outbox")
    return {r["event_type"]: r["next_attempt_at"] for r in rows}


async def test_a_success_makes_the_endpoints_other_backed_off_events_due_now(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic, other = await network.spoke(), await network.spoke()
    later = "attempts = 6, next_attempt_at = now() + interval '40 minutes'"
    await _event(conn, clinic.id, "answered", "attempts = 6")
    await _event(conn, clinic.id, "waiting-1", later)
    await _event(conn, clinic.id, "waiting-2", later)
    await _event(
        conn,
        clinic.id,
        "being-sent",
        "next_attempt_at = now() + interval '1 minute', leased_until = now() + interval '1 minute'",
    )
    await _event(conn, clinic.id, "given-up", f"{later}, failed_at = now()")
    await _event(conn, clinic.id, "delivered", "delivered_at = now()")
    await _event(conn, other.id, "other-clinic", later)
    before = await _next_attempts(conn)
    answered = await conn.fetchval("SELECT id FROM outbox WHERE event_type = 'answered'")

    released = await delivery_store.mark_delivered(conn, answered, 204)

    now = await conn.fetchval("SELECT now()")
    after = await _next_attempts(conn)
    assert released == 2
    assert after["waiting-1"] <= now and after["waiting-2"] <= now
    # In flight elsewhere, kept as failed (a hand retries those), done, or another clinic's
    # endpoint (still down as far as anyone knows): untouched.
    for untouched in ("being-sent", "given-up", "delivered", "other-clinic"):
        assert after[untouched] == before[untouched], untouched
    due = await delivery_store.claim_due(conn, [clinic.id, other.id], lease_seconds=60, limit=10)
    assert sorted(d.event_type for d in due) == ["waiting-1", "waiting-2"]
    assert {d.attempts for d in due} == {7}  # the count goes on; nothing is reset or lost
