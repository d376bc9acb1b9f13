"""The PostgreSQL the bench runs against: DATABASE_URL's server, or an embedded one."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import psutil

from telehub import embedded

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "var" / "bench-postgres"
PREFIX = "telehub_bench_"


@dataclass(frozen=True, slots=True)
class Database:
    """A fresh database for one run, on a server we can also administer."""

    admin_url: str
    url: str
    name: str
    data_dir: Path | None  # the embedded server's data, when we started it


def database_url(admin_url: str, name: str) -> str:
    """The admin URL with its database replaced (in the path, or in ?dbname=)."""
    head, sep, query = admin_url.partition("?")
    scheme, _, rest = head.partition("://")
    authority, _, _ = rest.partition("/")
    params = [p for p in query.split("&") if p and not p.startswith("dbname=")]
    return f"{scheme}://{authority}/{name}" + (sep + "&".join(params) if params else "")


@contextmanager
def server() -> Iterator[tuple[str, Path | None]]:
    """(admin URL, embedded data dir or None): DATABASE_URL if set, else var/bench-postgres."""
    given = os.environ.get("DATABASE_URL", "").strip()
    if given:
        yield given, None
        return
    pg = embedded.start(DATA_DIR)
    try:
        yield pg.url("postgres"), DATA_DIR
    finally:
        pg.stop()


async def create(admin_url: str, data_dir: Path | None) -> Database:
    """A new empty database named for this process; stale ones of dead runs are dropped."""
    name = f"{PREFIX}{os.getpid()}"
    admin = await asyncpg.connect(admin_url)
    try:
        rows = await admin.fetch(
            "SELECT datname FROM pg_database WHERE datname LIKE $1", PREFIX + "%"
        )
        for row in rows:
            pid = row["datname"].removeprefix(PREFIX)
            if row["datname"] == name or (pid.isdigit() and not psutil.pid_exists(int(pid))):
                await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return Database(admin_url, database_url(admin_url, name), name, data_dir)


async def drop(db: Database) -> None:
    """Drop the run's database."""
    admin = await asyncpg.connect(db.admin_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{db.name}" WITH (FORCE)')
    finally:
        await admin.close()


def postmaster_pid(db: Database) -> int | None:
    """The PostgreSQL server's process id, when it runs on this machine and we can tell."""
    if db.data_dir is not None:
        try:
            return int((db.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
    return None
