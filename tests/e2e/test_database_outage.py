"""A real PostgreSQL stopped and started under a running `telehub serve`.

While the database is away every request that needs it answers 503 with Retry-After (never
500), the log holds one line per failure and no traceback, and /readyz says 503; when it is
back, the same process answers 200 again by itself. A server started before its database
waits for it with backoff instead of exiting.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from datetime import time as wall
from pathlib import Path
from zoneinfo import ZoneInfo

import aiohttp
import asyncpg
import pytest

from telehub.db import create_pool
from telehub.settings import Settings
from tests.e2e.own_postgres import OwnPostgres
from tests.e2e.processes import Server, free_port, start_server, wait_ready
from tests.factories import Network

pytestmark = pytest.mark.slow
SECRET = "e2e-secret-key-" + "o" * 40
BASE_URL = "http://telehub.test"
LA = ZoneInfo("America/Los_Angeles")


@pytest.fixture
def own_postgres() -> Iterator[OwnPostgres]:
    """A PostgreSQL of this test's own, initialised but not started."""
    pg = OwnPostgres()
    pg.init()
    try:
        yield pg
    finally:
        pg.remove()


def _log_events(server: Server) -> list[dict[str, object]]:
    lines = server.log.read_text().splitlines()
    assert all(line.startswith("{") for line in lines), "every log line is one JSON object"
    return [json.loads(line) for line in lines]


def _assert_clean_log(server: Server) -> None:
    text = server.log.read_text()
    assert "Traceback" not in text
    events = _log_events(server)
    assert not [e for e in events if e.get("event") in ("request.failed", "webhook.worker_crashed")]
    assert not [e for e in events if e.get("event") == "request" and e.get("status") == 500]


async def _create_database(pg: OwnPostgres, name: str) -> None:
    conn = await asyncpg.connect(pg.url())
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@dataclass(frozen=True)
class Answer:
    """One request of the load, and the phase of the outage it started and ended in."""

    what: str
    began: str
    ended: str
    status: int
    retry_after: str | None
    content_type: str
    body: str


async def test_a_database_stopped_and_started_under_requests(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    pg = own_postgres
    pg.start()
    await _create_database(pg, "telehub")
    server = start_server(pg.url("telehub"), SECRET, BASE_URL, tmp_path / "server.log")
    try:
        await asyncio.to_thread(wait_ready, server.url + "/readyz", server.proc)
        settings = Settings(database_url=pg.url("telehub"), secret_key=SECRET, base_url=BASE_URL)
        pool = await create_pool(settings)
        try:
            network = Network(pool, settings)
            svc = await network.service()
            consultant = await network.consultant([svc])
            spoke = await network.spoke()
            patient = await network.patient(spoke)
        finally:
            await pool.close()
        today = datetime.now(LA).date() + timedelta(days=3)
        monday_9 = datetime.combine(today + timedelta(days=-today.weekday() % 7), wall(9), LA)
        booking = {
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": monday_9.isoformat(),
        }

        phase = "up"
        answers: list[Answer] = []
        done = asyncio.Event()

        async def load(session: aiohttp.ClientSession, what: str) -> None:
            n = 0
            while not done.is_set():
                n += 1
                began = phase
                if what == "book":
                    headers = {**spoke.headers, "Idempotency-Key": f"outage-{n}"}
                    request = session.post(
                        server.url + "/api/v1/bookings", json=booking, headers=headers
                    )
                elif what == "list":
                    request = session.get(server.url + "/api/v1/bookings", headers=spoke.headers)
                else:
                    request = session.get(server.url + "/readyz")
                async with request as response:
                    answers.append(
                        Answer(
                            what,
                            began,
                            phase,
                            response.status,
                            response.headers.get("Retry-After"),
                            response.content_type,
                            await response.text(),
                        )
                    )
                await asyncio.sleep(0.05)

        async with aiohttp.ClientSession() as session:
            tasks = [asyncio.create_task(load(session, w)) for w in ("book", "list", "ready")]
            await asyncio.sleep(1)
            phase = "stopping"
            await asyncio.to_thread(pg.stop)
            phase = "down"
            await asyncio.sleep(3)
            phase = "starting"
            await asyncio.to_thread(pg.start)
            phase = "back"
            deadline = time.monotonic() + 20  # the pool reconnects on the next request
            while time.monotonic() < deadline:
                if {a.what for a in answers if a.began == "back" and a.status < 500} == {
                    "book",
                    "list",
                    "ready",
                }:
                    break
                await asyncio.sleep(0.1)
            done.set()
            await asyncio.gather(*tasks)
    finally:
        server.stop()

    assert not [a for a in answers if a.status >= 500 and a.status != 503], "no 500, ever"
    down = [a for a in answers if a.began == a.ended == "down"]
    assert {a.what for a in down} == {"book", "list", "ready"}
    for answer in down:
        assert answer.status == 503, answer
        assert answer.retry_after == "1", answer
    for answer in (a for a in down if a.what != "ready"):
        assert answer.content_type == "application/problem+json"
        assert json.loads(answer.body)["type"] == "/problems/unavailable"
    for what in ("book", "list", "ready"):
        last = [a for a in answers if a.what == what][-1]
        assert last.status in (200, 201, 409), f"{what} answers again after the restart"
    _assert_clean_log(server)
    events = _log_events(server)
    assert [e for e in events if e.get("event") == "db.unavailable"]

    # Every acknowledged booking is there, once: nothing half done.
    booked = [json.loads(a.body)["id"] for a in answers if a.status == 201]
    conn = await asyncpg.connect(pg.url("telehub"))
    try:
        rows = await conn.fetch("SELECT id::text FROM bookings WHERE status = 'booked'")
    finally:
        await conn.close()
    assert len(booked) == 1
    assert [r["id"] for r in rows] == booked


async def test_a_server_started_before_its_database_waits_for_it(
    own_postgres: OwnPostgres, tmp_path: Path
) -> None:
    pg = own_postgres
    server = start_server(pg.url("telehub"), SECRET, BASE_URL, tmp_path / "server.log")
    try:
        await asyncio.to_thread(_until_logged, server, "db.waiting", 2)
        pg.start()
        await asyncio.to_thread(_until_logged, server, "db.waiting", 3)  # no database yet
        await _create_database(pg, "telehub")
        # It comes up by itself within its backoff (at most a few seconds by now).
        await asyncio.to_thread(wait_ready, server.url + "/readyz", server.proc, 30)
    finally:
        server.stop()

    waiting = [e for e in _log_events(server) if e.get("event") == "db.waiting"]
    assert [e["attempt"] for e in waiting] == list(range(1, len(waiting) + 1))
    assert all(e["level"] == "warning" and e["error"] for e in waiting)
    _assert_clean_log(server)


def _until_logged(server: Server, event: str, count: int) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if server.proc.poll() is not None:
            raise AssertionError(f"the server exited: {server.log.read_text()}")
        found = [e for e in _log_events(server) if e.get("event") == event]
        if len(found) >= count:
            return
        time.sleep(0.1)
    raise AssertionError(f"{event} not logged {count} times: {server.log.read_text()}")


def test_a_server_whose_database_never_comes_stops_after_its_start_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TELEHUB_DB_START_TIMEOUT", "1")
    nowhere = f"postgresql://nobody@127.0.0.1:{free_port()}/telehub"
    server = start_server(nowhere, SECRET, BASE_URL, tmp_path / "server.log")
    try:
        code = server.proc.wait(30)
    except subprocess.TimeoutExpired:
        server.stop()
        raise

    text = server.log.read_text()
    assert code == 1
    assert "did not accept connections within 1 s" in text
    assert "Traceback" not in text
