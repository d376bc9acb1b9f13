"""The wait after failed sign-ins grows with each failure, and a success forgets them."""

from __future__ import annotations

import asyncpg

from telehub import sessions


async def _wait_seconds(conn: asyncpg.Connection, email: str) -> float:
    value = await conn.fetchval(
        "SELECT extract(epoch FROM blocked_until - now()) FROM login_throttle WHERE email = $1",
        email,
    )
    return float(value or 0)


async def test_each_failure_from_the_third_doubles_the_wait(conn: asyncpg.Connection) -> None:
    email = "someone@clinic.test"
    waits = []
    for _ in range(6):
        await sessions.record_failure(conn, email)
        waits.append(round(await _wait_seconds(conn, email)))
    assert waits == [0, 0, 1, 2, 4, 8]
    assert await sessions.blocked_until(conn, email) is not None
    await sessions.clear_failures(conn, email)
    assert await sessions.blocked_until(conn, email) is None


async def test_the_wait_is_capped_at_fifteen_minutes(conn: asyncpg.Connection) -> None:
    email = "patient-guesser@clinic.test"
    for _ in range(30):
        await sessions.record_failure(conn, email)
    assert round(await _wait_seconds(conn, email)) == 900
