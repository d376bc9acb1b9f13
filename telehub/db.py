"""The asyncpg pool, bounded acquisition, and numbered SQL migrations."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources
from typing import cast

import asyncpg
import structlog

from telehub.errors import ServiceUnavailable
from telehub.settings import Settings

log = structlog.get_logger(__name__)

# Any constant shared by every telehub process: whoever holds it migrates, the others wait.
MIGRATION_LOCK_ID = 0x7E1E_4B0B
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

Pool = asyncpg.Pool


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")
    await conn.set_type_codec("json", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def connect(database_url: str) -> asyncpg.Connection:
    """One connection outside the pool (CLI, migrations), set up like the pool's."""
    conn = await asyncpg.connect(database_url, server_settings={"timezone": "UTC"})
    await _init_connection(conn)
    return conn


async def _reset(conn: asyncpg.Connection) -> None:
    # Nothing changes session state through the pool (only SET LOCAL, in transactions), so
    # the default reset (a round trip on every release) buys nothing; an open transaction
    # would be a bug, but is still rolled back.
    if conn.is_in_transaction():
        await conn.execute("ROLLBACK")


async def create_pool(settings: Settings) -> Pool:
    """A pool whose connections speak UTC and give up on runaway statements."""
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_reset,
        server_settings={
            "timezone": "UTC",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "application_name": "telehub",
        },
    )
    assert pool is not None
    return pool


@asynccontextmanager
async def connection(pool: Pool, acquire_timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or ServiceUnavailable quickly when the pool is exhausted."""
    try:
        conn = await pool.acquire(timeout=acquire_timeout)
    except TimeoutError:
        error = ServiceUnavailable("all database connections are busy; retry shortly")
        error.headers["Retry-After"] = "1"
        raise error from None
    try:
        # The pool's proxy forwards every Connection method; the stubs type it apart.
        yield cast(asyncpg.Connection, conn)
    finally:
        await pool.release(conn)


@asynccontextmanager
async def transaction(pool: Pool, acquire_timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection inside one transaction: the unit of work."""
    async with connection(pool, acquire_timeout) as conn, conn.transaction():
        yield conn


def migration_files() -> list[tuple[int, str, str]]:
    """(version, name, sql) of every packaged migration, in order."""
    found = []
    for item in resources.files("telehub.migrations").iterdir():
        match = _MIGRATION_NAME.match(item.name)
        if match:
            found.append((int(match.group(1)), item.name, item.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(set(versions)) != len(versions):
        raise RuntimeError(f"duplicate migration numbers: {versions}")
    return found


async def migrate(conn: asyncpg.Connection) -> list[str]:
    """Apply pending migrations under an advisory lock; return the names applied."""
    await conn.execute("SELECT pg_advisory_lock($1)", MIGRATION_LOCK_ID)
    try:
        await conn.execute(
            """
            CREATE TABLE IF NOT EXISTS schema_migrations (
                version integer PRIMARY KEY,
                name text NOT NULL,
                applied_at timestamptz NOT NULL DEFAULT now()
            )
            """
        )
        done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in migration_files():
            if version in done:
                continue
            async with conn.transaction():
                await conn.execute(sql)
                await conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)", version, name
                )
            log.info("db.migrated", migration=name)
            applied.append(name)
        return applied
    finally:
        await conn.execute("SELECT pg_advisory_unlock($1)", MIGRATION_LOCK_ID)


async def migrate_url(database_url: str) -> list[str]:
    """Connect once, migrate, disconnect."""
    conn = await asyncpg.connect(database_url)
    try:
        return await migrate(conn)
    finally:
        await conn.close()


async def wait_for_database(database_url: str, attempts: int = 30) -> None:
    """Wait for the server to accept connections (a database container may still be starting)."""
    for attempt in range(attempts):
        try:
            conn = await asyncpg.connect(database_url, timeout=5)
        except (OSError, asyncpg.CannotConnectNowError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(1)
        else:
            await conn.close()
            return
