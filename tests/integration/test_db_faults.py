"""Database faults become ServiceUnavailable (503, Retry-After) at telehub.db, in one line."""

from __future__ import annotations

import asyncio
import io
import json
from collections.abc import Iterator
from dataclasses import replace

import asyncpg
import pytest

from telehub.db import (
    DatabaseNotReady,
    WriteConflict,
    connection,
    create_pool,
    retrying,
    transaction,
    wait_for_database,
)
from telehub.errors import ServiceUnavailable
from telehub.logging import configure_logging
from telehub.settings import Settings
from tests.e2e.processes import free_port


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """Everything logged during the test, as JSON lines."""
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    yield buffer
    configure_logging(json=True)


def _events(buffer: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in buffer.getvalue().splitlines()]


async def test_a_connection_killed_inside_a_transaction_is_a_503_not_an_interface_error(
    pool: asyncpg.Pool, conn: asyncpg.Connection, log_lines: io.StringIO
) -> None:
    with pytest.raises(ServiceUnavailable) as raised:
        async with transaction(pool, 1.0) as work:
            await work.execute("CREATE TEMPORARY TABLE half_done (x int)")
            await conn.execute("SELECT pg_terminate_backend($1)", work.get_server_pid())
            await work.execute("INSERT INTO half_done VALUES (1)")

    assert raised.value.status == 503
    assert raised.value.headers["Retry-After"] == "1"
    (event,) = _events(log_lines)
    assert event["event"] == "db.unavailable"
    assert event["level"] == "warning"
    assert "Traceback" not in log_lines.getvalue()
    # The pool is whole again: the next unit of work gets a working connection.
    async with transaction(pool, 1.0) as work:
        assert await work.fetchval("SELECT 1") == 1


async def test_a_statement_timeout_is_a_503(pool: asyncpg.Pool) -> None:
    with pytest.raises(ServiceUnavailable, match="too long"):
        async with transaction(pool, 1.0) as work:
            await work.execute("SET LOCAL statement_timeout = 50")
            await work.execute("SELECT pg_sleep(2)")


async def test_a_database_that_stops_answering_frees_the_request_after_command_timeout(
    settings: Settings,
) -> None:
    # statement_timeout off for this one statement: only the client's command_timeout is
    # left to end it, as when the database process is frozen.
    quick = replace(settings, db_statement_timeout_ms=100, db_command_timeout=0.3)
    pool = await create_pool(quick)
    try:
        with pytest.raises(ServiceUnavailable, match="too long"):
            async with transaction(pool, 1.0) as work:
                await work.execute("SET LOCAL statement_timeout = 0")
                await work.execute("SELECT pg_sleep(30)")
    finally:
        await pool.close()


async def test_an_unreachable_database_is_a_503_while_acquiring(
    settings: Settings, log_lines: io.StringIO
) -> None:
    # Nothing listens on this loopback port; min_size=0 opens nothing until asked.
    pool = await asyncpg.create_pool(f"postgresql://nobody@127.0.0.1:{free_port()}/x", min_size=0)
    try:
        with pytest.raises(ServiceUnavailable, match="cannot be reached"):
            async with connection(pool, 1.0):
                pass
    finally:
        await pool.close()
    (event,) = _events(log_lines)
    assert event["event"] == "db.unavailable"
    assert event["during"] == "acquire"
    assert str(event["error"]).startswith(("ConnectionRefusedError", "OSError"))


async def test_a_request_error_on_a_live_connection_is_not_an_outage(pool: asyncpg.Pool) -> None:
    with pytest.raises(asyncpg.UndefinedTableError):
        async with connection(pool, 1.0) as conn:
            await conn.execute("SELECT * FROM no_such_table")
    with pytest.raises(asyncpg.DataError):
        async with connection(pool, 1.0) as conn:
            await conn.fetchval("SELECT $1::int", "not a number")


async def test_a_deadlock_is_a_write_conflict_and_retrying_runs_the_whole_work_again(
    pool: asyncpg.Pool,
) -> None:
    both_hold_one = asyncio.Barrier(2)
    attempts = {1: 0, 2: 0}

    async def work(first: int, second: int) -> int:
        async def attempt() -> int:
            attempts[first] += 1
            async with transaction(pool, 5.0) as conn:
                await conn.execute("SELECT pg_advisory_xact_lock(42, $1)", first)
                if attempts[first] == 1:
                    await both_hold_one.wait()  # each holds one lock and wants the other's
                await conn.execute("SELECT pg_advisory_xact_lock(42, $1)", second)
                return first

        return await retrying(attempt)

    results = await asyncio.gather(work(1, 2), work(2, 1))

    assert sorted(results) == [1, 2]
    assert sorted(attempts.values()) == [1, 2]  # PostgreSQL aborted one; it ran again


async def test_retrying_gives_up_with_a_503_after_its_attempts() -> None:
    calls = 0

    async def always_conflicts() -> None:
        nonlocal calls
        calls += 1
        raise WriteConflict("deadlock")

    with pytest.raises(ServiceUnavailable):
        await retrying(always_conflicts, attempts=3)
    assert calls == 3


async def test_waiting_for_a_database_logs_one_line_per_attempt_and_gives_up_when_told(
    log_lines: io.StringIO,
) -> None:
    url = f"postgresql://nobody@127.0.0.1:{free_port()}/x"

    with pytest.raises(DatabaseNotReady, match="within 1 s"):
        await wait_for_database(url, 1.0, first_delay=0.1, max_delay=0.2)

    events = _events(log_lines)
    waiting = [e for e in events if e["event"] == "db.waiting"]
    assert len(waiting) >= 3
    assert [e["attempt"] for e in waiting] == list(range(1, len(waiting) + 1))
    assert events[-1]["event"] == "db.start_gave_up"
    assert "Traceback" not in log_lines.getvalue()


async def test_waiting_for_a_database_that_is_up_returns_at_once(
    database_url: str, log_lines: io.StringIO
) -> None:
    await wait_for_database(database_url, 1.0)
    assert _events(log_lines) == []
