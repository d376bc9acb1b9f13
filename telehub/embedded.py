"""An embedded PostgreSQL (the `pgserver` wheel) for `make run` and `make test`."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg


@dataclass
class EmbeddedPostgres:
    """A private PostgreSQL server whose data lives under one folder."""

    server: Any
    data_dir: Path

    def url(self, database: str) -> str:
        """A connection URL for one database on this server (a Unix socket)."""
        return str(self.server.get_uri(database))

    def stop(self) -> None:
        """Stop the server now (it also stops when the process exits)."""
        self.server.cleanup()


def start(data_dir: Path) -> EmbeddedPostgres:
    """Start (initialising on first use) the server for `data_dir`, stopping it at exit."""
    import logging
    import warnings

    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (CI, containers).
        warnings.simplefilter("ignore")
        # imported late: a deployment with DATABASE_URL never needs it
        from pgserver.postgres_server import get_server

    # pgserver logs every start-up step at INFO through the root logger.
    logging.getLogger("pgserver").setLevel(logging.WARNING)
    data_dir.mkdir(parents=True, exist_ok=True)
    server = get_server(data_dir, cleanup_mode="stop")
    return EmbeddedPostgres(server, data_dir)


async def ensure_database(admin_url: str, name: str) -> None:
    """Create database `name` if it does not exist."""
    conn = await asyncpg.connect(admin_url)
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def ensure_database_sync(admin_url: str, name: str) -> None:
    """ensure_database, for callers outside an event loop."""
    asyncio.run(ensure_database(admin_url, name))
