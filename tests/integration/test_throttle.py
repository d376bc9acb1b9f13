"""The throttle counts every attempt atomically, so parallel guesses cannot race past it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from telehub import throttle
from telehub.throttle import Limit

LIMIT = Limit("test", free=3, cap_seconds=60)


async def test_three_attempts_pass_then_each_waits(conn: asyncpg.Connection) -> None:
    for _ in range(3):
        assert await throttle.claim(conn, [(LIMIT, "a@example.org")]) is None
    wait = await throttle.claim(conn, [(LIMIT, "a@example.org")])
    assert wait is not None and 0 < wait <= 1


async def test_a_refused_attempt_is_not_counted(conn: asyncpg.Connection) -> None:
    for _ in range(3):
        await throttle.claim(conn, [(LIMIT, "b")])
    for _ in range(5):
        assert await throttle.claim(conn, [(LIMIT, "b")]) is not None
    attempts = await conn.fetchval("SELECT attempts FROM throttle WHERE limit_name = 'test'")
    assert attempts == 3


async def test_after_the_wait_an_attempt_passes_and_the_next_wait_doubles(
    conn: asyncpg.Connection,
) -> None:
    for _ in range(3):
        await throttle.claim(conn, [(LIMIT, "c")])
    await conn.execute("UPDATE throttle SET blocked_until = now() - interval '1 ms'")
    assert await throttle.claim(conn, [(LIMIT, "c")]) is None
    wait = await throttle.claim(conn, [(LIMIT, "c")])
    assert wait is not None and 1 < wait <= 2


async def test_the_wait_never_exceeds_the_cap(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "INSERT INTO throttle (limit_name, subject, attempts, passed)"
        " VALUES ('test', $1, 40, true)",
        throttle._digest("d"),
    )
    assert await throttle.claim(conn, [(LIMIT, "d")]) is None
    wait = await throttle.claim(conn, [(LIMIT, "d")])
    assert wait is not None and 59 < wait <= 60


async def test_twenty_parallel_attempts_let_exactly_three_through(pool: asyncpg.Pool) -> None:
    async def attempt() -> float | None:
        async with pool.acquire() as conn:
            return await throttle.claim(conn, [(LIMIT, "e")])

    results = await asyncio.gather(*(attempt() for _ in range(20)))
    assert sum(r is None for r in results) == 3


async def test_a_blocked_subject_blocks_an_attempt_that_names_it_among_others(
    conn: asyncpg.Connection,
) -> None:
    address = Limit("test-address", free=1, cap_seconds=60)
    assert await throttle.claim(conn, [(address, "10.0.0.1"), (LIMIT, "f")]) is None
    assert await throttle.claim(conn, [(address, "10.0.0.1"), (LIMIT, "g")]) is not None


async def test_forget_starts_the_subject_again(conn: asyncpg.Connection) -> None:
    for _ in range(4):
        await throttle.claim(conn, [(LIMIT, "h")])
    await throttle.forget(conn, LIMIT, "h")
    assert await throttle.claim(conn, [(LIMIT, "h")]) is None


async def test_subjects_are_stored_only_as_digests(conn: asyncpg.Connection) -> None:
    await throttle.claim(conn, [(LIMIT, "someone@clinic.example")])
    stored = await conn.fetchval("SELECT subject FROM throttle")
    assert b"someone" not in bytes(stored)


@pytest.mark.parametrize("limit", [throttle.SIGNIN_ADDRESS, throttle.TOKEN_ADDRESS])
async def test_an_address_waits_a_minute_at_most_after_many_failures(
    conn: asyncpg.Connection, limit: Limit
) -> None:
    # Everyone behind one address shares its wait (a proxy not configured, a clinic's NAT).
    await conn.execute(
        "INSERT INTO throttle (limit_name, subject, attempts, passed) VALUES ($1, $2, 40, true)",
        limit.name,
        throttle._digest("198.51.100.1"),
    )
    assert await throttle.claim(conn, [(limit, "198.51.100.1")]) is None
    wait = await throttle.claim(conn, [(limit, "198.51.100.1")])
    assert wait is not None and 59 < wait <= 60
