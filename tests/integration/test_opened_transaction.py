"""telehub.idempotency.opened(): a transaction whose BEGIN carries its first statements. It
commits only what was written, rolls back on any error, and answers a key still in flight."""

from __future__ import annotations

import asyncpg
import pytest

from telehub.errors import IdempotencyInFlight
from telehub.idempotency import Claim, opened


async def test_an_error_inside_rolls_back_and_frees_the_key(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    claim = Claim("client", "key-1", b"h")
    await conn.execute("CREATE TABLE opened_probe (n int)")

    with pytest.raises(ValueError):
        async with opened(conn, [claim.claim_sql()]):
            await conn.execute("INSERT INTO opened_probe VALUES (1)")
            raise ValueError("refused")

    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT count(*) FROM opened_probe") == 0
    async with pool.acquire() as other, opened(other, [claim.claim_sql()]):
        pass  # the key's lock went with the rollback


async def test_a_swallowed_database_error_is_not_answered_as_committed(
    conn: asyncpg.Connection,
) -> None:
    await conn.execute("CREATE TABLE opened_probe (n int)")

    with pytest.raises(RuntimeError, match="not committed"):
        async with opened(conn, []):
            await conn.execute("INSERT INTO opened_probe VALUES (1)")
            with pytest.raises(asyncpg.DivisionByZeroError):
                await conn.execute("SELECT 1 / 0")

    assert not conn.is_in_transaction()
    assert await conn.fetchval("SELECT count(*) FROM opened_probe") == 0


async def test_a_key_held_by_another_transaction_is_in_flight(
    pool: asyncpg.Pool, conn: asyncpg.Connection
) -> None:
    claim = Claim("client", "key-2", b"h")
    async with opened(conn, [claim.claim_sql()]), pool.acquire() as other:
        with pytest.raises(IdempotencyInFlight):
            async with opened(other, [claim.claim_sql()]):
                pass
        assert not other.is_in_transaction()
