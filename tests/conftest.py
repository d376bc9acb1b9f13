"""Shared fixtures: a real PostgreSQL, a fresh database per test, the app, a fixed clock."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import asyncpg
import psutil
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub import embedded
from telehub.app import create_app
from telehub.db import create_pool, migrate_url
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.spare_databases import SpareDatabases

ROOT = Path(__file__).resolve().parent.parent
# One template per pytest session, so sessions running side by side never share one.
TEMPLATE = f"telehub_template_{os.getpid()}"


@pytest.fixture(scope="session")
def admin_url() -> Iterator[str]:
    """A maintenance URL on a real PostgreSQL: TELEHUB_TEST_DATABASE_URL, or an embedded one."""
    given = os.environ.get("TELEHUB_TEST_DATABASE_URL")
    if given:
        yield given
        return
    server = embedded.start(ROOT / "var" / "test-postgres")
    yield server.url("postgres")


@pytest.fixture(scope="session")
async def template(admin_url: str) -> AsyncIterator[str]:
    """The name of a database migrated once, that each test's database is cloned from."""
    admin = await asyncpg.connect(admin_url)
    try:
        await _drop_stale_templates(admin)
        await admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
        await migrate_url(_url(admin_url, TEMPLATE))
        yield TEMPLATE
        await admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
    finally:
        await admin.close()


async def _drop_stale_templates(admin: asyncpg.Connection) -> None:
    """Templates of sessions that died without cleaning up."""
    names = await admin.fetch(
        "SELECT datname FROM pg_database WHERE datname LIKE 'telehub_template_%'"
    )
    for row in names:
        pid = row["datname"].rsplit("_", 1)[-1]
        if pid.isdigit() and not psutil.pid_exists(int(pid)):
            await admin.execute(f'DROP DATABASE IF EXISTS "{row["datname"]}" WITH (FORCE)')


def _url(admin_url: str, database: str) -> str:
    # The admin URL names the 'postgres' database, either in the path or as ?dbname.
    head, sep, query = admin_url.partition("?")
    base = head.rsplit("/", 1)[0]
    return f"{base}/{database}{sep}{query}"


@asynccontextmanager
async def _scratch_database(admin_url: str, template: str | None) -> AsyncIterator[str]:
    name = "t_" + uuid.uuid4().hex[:16]
    source = f' TEMPLATE "{template}" STRATEGY FILE_COPY' if template else ""
    admin = await asyncpg.connect(admin_url)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"{source}')
        yield _url(admin_url, name)
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()


@pytest.fixture(scope="session")
def spare_databases(admin_url: str, template: str) -> Iterator[SpareDatabases]:
    """Clones of the template made ahead of need, in a thread of their own."""
    spares = SpareDatabases(admin_url, template)
    yield spares
    spares.close()


@pytest.fixture
def database_url(admin_url: str, spare_databases: SpareDatabases) -> Iterator[str]:
    """A fresh, migrated, empty database for this test, dropped afterwards."""
    name = spare_databases.take()
    try:
        yield _url(admin_url, name)
    finally:
        spare_databases.give_back(name)


@pytest.fixture
async def empty_database_url(admin_url: str) -> AsyncIterator[str]:
    """A brand-new database with no schema at all, dropped afterwards."""
    async with _scratch_database(admin_url, None) as url:
        yield url


@pytest.fixture
def settings(database_url: str) -> Settings:
    """Settings for an in-process app on this test's database."""
    return Settings(
        database_url=database_url,
        secret_key="test-secret-key-" + "x" * 32,
        base_url="http://telehub.test",
        db_pool_min=1,
        db_pool_max=10,
        log_json=True,
        webhook_allow_private=True,  # test receivers listen on loopback
    )


@pytest.fixture
async def pool(settings: Settings) -> AsyncIterator[asyncpg.Pool]:
    """An asyncpg pool on this test's database."""
    pool = await create_pool(settings)
    yield pool
    await pool.close()


@pytest.fixture
async def conn(pool: asyncpg.Pool) -> AsyncIterator[asyncpg.Connection]:
    """One connection on this test's database."""
    async with pool.acquire() as connection:
        yield connection


@pytest.fixture
def clock() -> Clock:
    """A clock fixed at Monday 1 March 2027, 15:00 UTC; tests may move it."""
    return Clock(datetime(2027, 3, 1, 15, 0, tzinfo=UTC))


@pytest.fixture
async def client(
    pool: asyncpg.Pool, aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> TestClient:
    """The whole app, in process, on this test's database and clock."""
    # `pool` comes first so it is torn down last, after the app's cleanup stops its worker.
    return await aiohttp_client(create_app(settings, pool=pool, clock=clock))


@pytest.fixture
def network(pool: asyncpg.Pool, settings: Settings) -> Network:
    """Factories for services, consultants, spokes, patients and their tokens."""
    return Network(pool, settings)
