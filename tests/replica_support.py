"""A primary and its streaming replica, both clusters of a test's own (the pgserver wheel's
binaries): the replica is made with `pg_basebackup -R` and runs on another loopback port."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import asyncpg

from telehub.db import migrate_url
from tests.e2e.own_postgres import OwnPostgres

DATABASE = "telehub"


class ReplicaPostgres(OwnPostgres):
    """A hot standby of `primary`, cloned with pg_basebackup -R (streaming, not archive)."""

    def __init__(self, primary: OwnPostgres) -> None:
        super().__init__()
        self.primary = primary

    def init(self) -> None:
        """Clone the primary's data directory and write its standby settings (-R)."""
        self._run(
            "pg_basebackup",
            "-h", "127.0.0.1",
            "-p", str(self.primary.port),
            "-U", "postgres",
            "-D", str(self.data),
            "-R",
            "-X", "stream",
            "-c", "fast",
        )  # fmt: skip


def primary_and_replica() -> tuple[OwnPostgres, ReplicaPostgres]:
    """A running primary (with a migrated `telehub` database) and its running replica."""
    primary = OwnPostgres()
    primary.init()
    primary.start()
    try:
        asyncio.run(_create_database(primary))
        replica = ReplicaPostgres(primary)
        replica.init()
        replica.start()
    except BaseException:
        primary.remove()
        raise
    return primary, replica


async def _create_database(pg: OwnPostgres) -> None:
    conn = await asyncpg.connect(pg.url())
    try:
        await conn.execute(f'CREATE DATABASE "{DATABASE}"')
    finally:
        await conn.close()
    await migrate_url(pg.url(DATABASE))


async def in_recovery(url: str) -> bool:
    """pg_is_in_recovery() as the server at `url` answers it."""
    conn = await asyncpg.connect(url)
    try:
        return bool(await conn.fetchval("SELECT pg_is_in_recovery()"))
    finally:
        await conn.close()


async def caught_up(primary_url: str, replica_url: str, *, within: float = 30.0) -> None:
    """Wait until the replica has replayed everything the primary has written so far."""
    primary = await asyncpg.connect(primary_url)
    try:
        target = await primary.fetchval("SELECT pg_current_wal_lsn()::text")
    finally:
        await primary.close()
    replica = await asyncpg.connect(replica_url)
    try:
        deadline = asyncio.get_running_loop().time() + within
        while True:
            reached = await replica.fetchval(
                "SELECT pg_last_wal_replay_lsn() >= $1::text::pg_lsn", target
            )
            if reached:
                return
            if asyncio.get_running_loop().time() > deadline:
                raise TimeoutError(f"the replica did not replay up to {target} in {within} s")
            await asyncio.sleep(0.02)
    finally:
        await replica.close()


@asynccontextmanager
async def replay_paused(replica_url: str) -> AsyncIterator[None]:
    """The replica keeps receiving WAL but applies none of it until the block ends."""
    conn = await asyncpg.connect(replica_url)
    try:
        await conn.execute("SELECT pg_wal_replay_pause()")
        yield
    finally:
        await conn.execute("SELECT pg_wal_replay_resume()")
        await conn.close()
