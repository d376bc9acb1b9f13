"""Housekeeping every process does now and then: forget what has expired.

Deletes are idempotent, so several processes doing it at once is harmless.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from telehub.db import connection
from telehub.sessions import IDLE

log = structlog.get_logger(__name__)

EVERY_SECONDS = 3600
IDEMPOTENCY_KEEP_HOURS = 24  # a client retries within minutes; a day is generous


async def sweep(conn: asyncpg.Connection) -> dict[str, int]:
    """Delete expired idempotency keys and web sessions; return how many of each."""
    keys = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        IDEMPOTENCY_KEEP_HOURS,
    )
    sessions = await conn.execute(
        """
        DELETE FROM web_sessions
        WHERE expires_at < now() OR last_seen_at < now() - make_interval(secs => $1)
        """,
        IDLE.total_seconds(),  # the same idle limit that ends a session when it is used
    )
    return {"idempotency_keys": int(keys.split()[-1]), "web_sessions": int(sessions.split()[-1])}


async def run(pool: asyncpg.Pool, acquire_timeout: float) -> None:
    """Sweep once an hour, forever."""
    while True:
        try:
            async with connection(pool, acquire_timeout) as conn:
                removed = await sweep(conn)
            log.info("housekeeping.swept", **removed)
        except (OSError, asyncpg.PostgresError, TimeoutError) as exc:
            log.warning("housekeeping.failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(EVERY_SECONDS)
