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


async def create_replica_pool(settings: Settings) -> Pool:
    """A pool on the streaming replica, set up like the primary's; it opens no connection
    at start (min_size 0), so the service starts while the replica is away."""
    assert settings.database_replica_url is not None
    pool = await asyncpg.create_pool(
        settings.database_replica_url,
        min_size=0,
        max_size=settings.db_pool_max,
        init=_init_connection,
        reset=_reset,
        command_timeout=settings.db_command_timeout,
        server_settings={
            "timezone": "UTC",
            "statement_timeout": str(settings.db_statement_timeout_ms),
            "application_name": "telehub-replica",
        },
    )
    assert pool is not None
    return pool


# How far behind the replica is, in seconds: 0 when it has replayed all it received (an idle
# primary sends nothing, and the last replayed commit only grows old), else the age of the
# last commit it replayed. NULL on a server that is not in recovery.
_REPLICA_LAG = """
SELECT pg_is_in_recovery() AS standby,
       CASE WHEN pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
            THEN 0
            ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
       END AS lag
"""


# What a replica that is stopped, restarting or unreachable raises.
_REPLICA_AWAY: tuple[type[BaseException], ...] = (
    TimeoutError,
    OSError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # the protocol state a shutdown mid-query leaves
)


class Replica:
    """The replica's pool and whether reads may go to it: checked at most every
    `check_every` seconds, and on any failure; a fallback is logged once per episode."""

    def __init__(self, pool: Pool, max_lag: float, *, check_every: float = 1.0) -> None:
        self.pool = pool
        self.max_lag = max_lag
        self.check_every = check_every
        self.served = 0  # reads the replica answered
        self.fell_back = 0  # reads the primary answered instead
        self._checked_at = float("-inf")
        self._down: str | None = None  # why reads go to the primary, while they do

    @property
    def down(self) -> str | None:
        """Why reads are going to the primary now, or None when the replica serves them."""
        return self._down

    def _due(self) -> bool:
        return asyncio.get_running_loop().time() - self._checked_at >= self.check_every

    async def _usable(self, conn: asyncpg.Connection) -> str | None:
        """None when the replica may serve, else why not."""
        row = await conn.fetchrow(_REPLICA_LAG)
        assert row is not None
        if not row["standby"]:
            return "not in recovery"
        if row["lag"] is not None and row["lag"] > self.max_lag:
            return "lagging"
        return None

    def fall_back(self, reason: str) -> None:
        """Send reads to the primary (logged once per episode) until the next check."""
        self._checked_at = asyncio.get_running_loop().time()
        self.fell_back += 1
        if self._down is None:
            log.warning("db.replica_fallback", reason=reason, max_lag_s=self.max_lag)
        self._down = reason

    def _serve(self) -> None:
        self.served += 1
        if self._down is not None:
            log.info("db.replica_restored", was=self._down)
            self._down = None

    async def begin(self, acquire_timeout: float) -> asyncpg.Connection | None:
        """A replica connection in a read-only transaction, or None: the primary answers.

        The transaction is begun here so that a connection the stopped replica has already
        dropped is found out before the caller's reads, which then go to the primary.
        """
        if self._down is not None and not self._due():
            self.fell_back += 1
            return None
        try:
            conn = await _acquire(self.pool, acquire_timeout)
        except _REPLICA_AWAY as exc:
            self.fall_back("unreachable: " + type(exc).__name__)
            return None
        try:
            await conn.execute("BEGIN READ ONLY")
            reason = None
            if self._down is not None or self._due():
                reason = await self._usable(conn)
                self._checked_at = asyncio.get_running_loop().time()
        except _REPLICA_AWAY as exc:
            reason = "unreachable: " + type(exc).__name__
            if isinstance(exc, asyncpg.InternalClientError) and not _is_closed(conn):
                conn.terminate()  # never hand a broken protocol to another request
        if reason is not None:
            await self.release(conn)  # the pool's reset rolls back
            self.fall_back(reason)
            return None
        self._serve()
        return conn

    async def release(self, conn: asyncpg.Connection) -> None:
        """Give a connection from `begin` back."""
        try:
            await self.pool.release(conn)  # type: ignore[arg-type]  # the proxy, typed apart
        except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("db.release_failed", error=_describe(exc))


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


@asynccontextmanager
async def reading(
    primary: Pool, replica: Replica | None, acquire_timeout: float
) -> AsyncIterator[asyncpg.Connection]:
    """A read-only transaction on the replica when it is up and close enough behind, else on
    the primary. Only for reads that may be a few seconds stale: never a booking's checks,
    a write, or a read of what the caller has just written."""
    conn = None if replica is None else await replica.begin(acquire_timeout)
    if conn is None:
        async with transaction(primary, acquire_timeout) as conn:
            yield conn
        return
    assert replica is not None
    try:
        yield conn
        await conn.execute("COMMIT")
    except Exception as exc:
        # An unfinished transaction is rolled back by the pool's reset on release.
        problem = _unavailable(exc, conn, "replica query")
        if problem is None:
            raise
        if _is_closed(conn) or isinstance(exc, _UNREACHABLE):
            replica.fall_back("lost: " + type(exc).__name__)  # the next reads: the primary
        raise problem from None
    finally:
        await replica.release(conn)


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
