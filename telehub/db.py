"""The asyncpg pool, bounded acquisition, and numbered SQL migrations."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import TypeVar, cast

import asyncpg
import structlog

from telehub.errors import Problem, ServiceUnavailable
from telehub.settings import Settings

log = structlog.get_logger(__name__)

# Any constant shared by every telehub process: whoever holds it migrates, the others wait.
MIGRATION_LOCK_ID = 0x7E1E_4B0B
_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")

Pool = asyncpg.Pool
T = TypeVar("T")


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
    """A pool whose connections speak UTC and give up on runaway statements.

    Two bounds: the server's `statement_timeout`, and asyncpg's `command_timeout` on the
    client side, so a database that stops answering cannot pin a request (or a connection)
    for longer than that either.
    """
    pool = await asyncpg.create_pool(
        settings.database_url,
        min_size=settings.db_pool_min,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_reset,
        command_timeout=settings.db_command_timeout,
        server_settings={
            "timezone": "UTC",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "application_name": "telehub",
        },
    )
    assert pool is not None
    return pool


class WriteConflict(ServiceUnavailable):
    """PostgreSQL aborted the transaction (deadlock, serialization failure): run it again."""


# Failures of the database, never of the request: the answer is 503. (OSError and
# InterfaceError count too when the connection is lost: see _unavailable.)
_UNREACHABLE: tuple[type[BaseException], ...] = (
    asyncpg.PostgresConnectionError,  # class 08, ConnectionDoesNotExistError
    asyncpg.CannotConnectNowError,  # starting up, shutting down
    asyncpg.TooManyConnectionsError,
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    asyncpg.QueryCanceledError,  # statement_timeout
)
_CONFLICT: tuple[type[BaseException], ...] = (
    asyncpg.DeadlockDetectedError,  # 40P01
    asyncpg.SerializationError,  # 40001
)


def _unavailable(
    exc: BaseException, conn: asyncpg.Connection | None, during: str
) -> Problem | None:
    """The 503 that `exc` stands for, or None when it is the request's own error."""
    if isinstance(exc, _CONFLICT):
        log.warning("db.conflict", during=during, error=_describe(exc))
        return WriteConflict("a conflicting change was being made at the same time; retry")
    # Acquiring, any OSError is the way to the database. Inside a block, asyncpg's
    # InterfaceError is also a programming error or bad input to an encoder, and an OSError
    # may be the request's own (a DNS lookup): only a closed connection makes them an outage.
    closed = conn is None or _is_closed(conn)
    lost = isinstance(exc, ConnectionError | TimeoutError | asyncpg.InternalClientError) or (
        isinstance(exc, OSError | asyncpg.InterfaceError) and closed
    )
    if lost or isinstance(exc, _UNREACHABLE):
        log.warning("db.unavailable", during=during, error=_describe(exc))
        if isinstance(exc, asyncpg.QueryCanceledError | TimeoutError):
            return ServiceUnavailable("the database took too long to answer; retry shortly")
        return ServiceUnavailable("the database cannot be reached right now; retry shortly")
    return None


def _is_closed(conn: asyncpg.Connection) -> bool:
    try:
        return conn.is_closed()
    except asyncpg.InterfaceError:  # a lost connection's proxy is already detached
        return True


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}".strip().rstrip(":")


async def _acquire(pool: Pool, acquire_timeout: float) -> asyncpg.Connection:
    deadline = asyncio.get_running_loop().time() + acquire_timeout
    while True:
        try:
            conn = await pool.acquire(timeout=acquire_timeout)
        except asyncpg.TooManyConnectionsError:
            # The pool tried to open one more connection and the server had no room; a
            # connection the pool already holds may come back before the deadline.
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0.05:
                raise
            await asyncio.sleep(0.05)
            acquire_timeout = left - 0.05
            continue
        # The pool's proxy forwards every Connection method; the stubs type it apart.
        return cast(asyncpg.Connection, conn)


@asynccontextmanager
async def connection(pool: Pool, acquire_timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection, or ServiceUnavailable (503, Retry-After) when the database is
    busy or out of reach, while acquiring or inside the block: one warning line, no traceback.
    """
    try:
        conn = await _acquire(pool, acquire_timeout)
    except TimeoutError:
        log.warning("db.unavailable", during="acquire", error="all connections busy")
        raise ServiceUnavailable("all database connections are busy; retry shortly") from None
    except Exception as exc:
        problem = _unavailable(exc, None, "acquire")
        if problem is None:
            raise
        raise problem from None
    try:
        yield conn
    except Exception as exc:
        problem = _unavailable(exc, conn, "query")
        if problem is None:
            raise
        if isinstance(exc, asyncpg.InternalClientError) and not _is_closed(conn):
            # Its protocol state is broken (seen when the server shut down mid-query):
            # never hand it to another request.
            conn.terminate()
        raise problem from None
    finally:
        try:
            await pool.release(conn)  # type: ignore[arg-type]  # the proxy, typed apart
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            # The pool has already dropped a connection it could not reset.
            log.warning("db.release_failed", error=_describe(exc))


@asynccontextmanager
async def transaction(pool: Pool, acquire_timeout: float) -> AsyncIterator[asyncpg.Connection]:
    """A pooled connection inside one transaction: the unit of work."""
    async with connection(pool, acquire_timeout) as conn, conn.transaction():
        yield conn


async def retrying(work: Callable[[], Awaitable[T]], attempts: int = 3) -> T:
    """Run a whole unit of work again when PostgreSQL aborted it for a conflict.

    `work` must acquire its own connection and transaction, so each attempt starts afresh.
    """
    for attempt in range(1, attempts + 1):
        try:
            return await work()
        except WriteConflict:
            if attempt == attempts:
                raise
            await asyncio.sleep(0.01 * attempt)
    raise AssertionError("unreachable")


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


class DatabaseNotReady(Exception):
    """The database did not accept connections within the start-up timeout."""


# Waiting at start: what a database that is still coming up answers with.
_NOT_YET: tuple[type[BaseException], ...] = (
    OSError,
    asyncpg.PostgresConnectionError,
    asyncpg.CannotConnectNowError,
    asyncpg.TooManyConnectionsError,
    asyncpg.InvalidCatalogNameError,  # the database itself is created by a later step
)


async def wait_for_database(
    database_url: str,
    give_up_after: float = 0.0,
    *,
    first_delay: float = 0.5,
    max_delay: float = 10.0,
) -> None:
    """Wait for the database to accept connections, with backoff and one line per attempt.

    A host that boots PostgreSQL and the service together brings the service up by itself.
    `give_up_after` bounds the wait (seconds); 0 waits for ever.
    """
    loop = asyncio.get_running_loop()
    started = loop.time()
    delay = first_delay
    attempt = 0
    while True:
        attempt += 1
        try:
            conn = await asyncpg.connect(database_url, timeout=5)
        except _NOT_YET as exc:
            waited = loop.time() - started
            if give_up_after and waited + delay > give_up_after:
                log.error(
                    "db.start_gave_up",
                    attempt=attempt,
                    waited_s=round(waited, 1),
                    error=_describe(exc),
                )
                raise DatabaseNotReady(
                    f"the database did not accept connections within {give_up_after:g} s: "
                    f"{_describe(exc)}"
                ) from None
            log.warning(
                "db.waiting", attempt=attempt, retry_in_s=round(delay, 2), error=_describe(exc)
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, max_delay)
        else:
            await conn.close()
            if attempt > 1:
                log.info("db.reachable", attempt=attempt)
            return
