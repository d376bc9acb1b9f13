"""Migrations: numbered files, applied once, even when several processes start together."""

from __future__ import annotations

import asyncio

import asyncpg

from telehub.db import migrate, migration_files


async def test_migration_files_are_numbered_without_gaps() -> None:
    versions = [v for v, _, _ in migration_files()]
    assert versions == list(range(1, len(versions) + 1))


async def test_concurrent_migrations_apply_each_file_once(empty_database_url: str) -> None:
    conns = [await asyncpg.connect(empty_database_url) for _ in range(4)]
    try:
        results = await asyncio.gather(*(migrate(c) for c in conns))
        applied = await conns[0].fetch("SELECT version FROM schema_migrations ORDER BY version")
    finally:
        for c in conns:
            await c.close()
    assert sorted(len(r) for r in results) == [0, 0, 0, len(migration_files())]
    assert [r["version"] for r in applied] == [v for v, _, _ in migration_files()]


async def test_migrating_an_up_to_date_database_does_nothing(conn: asyncpg.Connection) -> None:
    assert await migrate(conn) == []
