"""Housekeeping forgets expired idempotency keys and sessions, and nothing else."""

from __future__ import annotations

import asyncpg

from telehub.housekeeping import sweep
from tests.factories import Network


async def test_old_keys_and_dead_sessions_go_and_current_ones_stay(
    conn: asyncpg.Connection, network: Network
) -> None:
    await conn.execute(
        """
        INSERT INTO idempotency_keys (owner, key, request_hash, response_status, response_body,
                                      created_at)
        VALUES ('c', 'old', '\\x00', 201, '{}', now() - interval '25 hours'),
               ('c', 'new', '\\x00', 201, '{}', now() - interval '1 hour')
        """
    )
    spoke = await network.spoke()
    email, _ = await network.user("spoke_scheduler", spoke_id=spoke.id)
    user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    await conn.execute(
        """
        INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at, last_seen_at)
        VALUES ('\\x01', $1, 'a', now() - interval '1 minute', now()),
               ('\\x02', $1, 'b', now() + interval '1 hour', now() - interval '2 days'),
               ('\\x03', $1, 'c', now() + interval '1 hour', now())
        """,
        user_id,
    )

    assert await sweep(conn, idle_minutes=30) == {
        "idempotency_keys": 1,
        "web_sessions": 2,
        "signin_pending": 0,
        "throttle": 0,
    }
    assert [r["key"] for r in await conn.fetch("SELECT key FROM idempotency_keys")] == ["new"]
    assert await conn.fetchval("SELECT csrf_token FROM web_sessions") == "c"
