"""Housekeeping every process does now and then: forget what has expired.

Deletes are idempotent, so several processes doing it at once is harmless.
"""

from __future__ import annotations

import asyncio

import asyncpg
import structlog

from telehub import throttle
from telehub.db import connection
from telehub.errors import ServiceUnavailable
from telehub.settings import Settings

log = structlog.get_logger(__name__)

EVERY_SECONDS = 3600
IDEMPOTENCY_KEEP_HOURS = 24  # a client retries within minutes; a day is generous


async def sweep(conn: asyncpg.Connection, idle_minutes: int) -> dict[str, int]:
    """Delete expired idempotency keys, web sessions (ended, or idle longer than
    `idle_minutes`), half-finished sign-ins and stale throttle counts; how many of each."""
    keys = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)",
        IDEMPOTENCY_KEEP_HOURS,
    )
    sessions = await conn.execute(
        """
        DELETE FROM web_sessions
        WHERE expires_at < now() OR last_seen_at < now() - make_interval(mins => $1)
        """,
        idle_minutes,  # the same idle limit that ends a session when it is used
    )
    pending = await conn.execute("DELETE FROM signin_pending WHERE expires_at < now()")
    return {
        "idempotency_keys": int(keys.split()[-1]),
        "web_sessions": int(sessions.split()[-1]),
        "signin_pending": int(pending.split()[-1]),
        "throttle": await throttle.sweep(conn),
    }


async def run(pool: asyncpg.Pool, settings: Settings) -> None:
    """Sweep once an hour, forever."""
    while True:
        try:
            async with connection(pool, settings.db_acquire_timeout) as conn:
                removed = await sweep(conn, settings.session_idle_minutes)
            log.info("housekeeping.swept", **removed)
        except (OSError, asyncpg.PostgresError, TimeoutError, ServiceUnavailable) as exc:
            log.warning("housekeeping.failed", error=f"{type(exc).__name__}: {exc}")
        await asyncio.sleep(EVERY_SECONDS)
