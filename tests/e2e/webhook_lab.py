"""A lab for webhook tests: real servers on one database, real receivers (receiver.py), the
API calls that make a note to deliver; the `lab` fixture is in conftest.py."""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from telehub.db import create_pool
from telehub.settings import Settings
from tests.e2e.processes import ROOT, TELEHUB, Server, free_port, wait_ready
from tests.factories import Network, SpokeUser

SECRET = "e2e-webhooks-key-" + "w" * 40
BASE_URL = "http://telehub.test"
RECEIVER = Path(__file__).with_name("receiver.py")
POLL = 0.1
BASE = 0.4  # backoff base: large against the poll, so the jittered gaps are told apart
TIMEOUT = 1.0
FAST = {
    "TELEHUB_DELIVERY_WORKERS": "true",
    "TELEHUB_OUTBOX_POLL": str(POLL),
    "TELEHUB_WEBHOOK_BACKOFF_BASE": str(BASE),
    "TELEHUB_WEBHOOK_BACKOFF_MAX": "5",
    "TELEHUB_WEBHOOK_TIMEOUT": str(TIMEOUT),
    "TELEHUB_WEBHOOK_LEASE": "3",
    "TELEHUB_WEBHOOK_RETRY_DAYS": "1",
    "TELEHUB_WEBHOOK_ALLOW_PRIVATE": "true",  # the receivers listen on loopback, over http
}
THIN_DATA = {
    "note_id",
    "version",
    "spoke_id",
    "patient_id",
    "econsult_id",
    "booking_id",
    "signed_at",
    "links",
    # 42 CFR part 2: the notice, the scope of the consent it goes under, the security labels
    # (consults.disclosure.part2_block); not clinical content, so thin payloads carry it too.
    "part2",
}


# --- processes ----------------------------------------------------------------------------


def _spawn_server(database_url: str, log: Path, env: Mapping[str, str]) -> Server:
    """`telehub serve` with the fast webhook settings (and `env` over them), not yet ready."""
    port = free_port()
    full_env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEHUB_SECRET_KEY": SECRET,
        "TELEHUB_BASE_URL": BASE_URL,
        "TELEHUB_PORT": str(port),
        "TELEHUB_LOG_JSON": "true",
        **FAST,
        **env,
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TELEHUB, "serve"], env=full_env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
    return Server(proc, port, log)


def _spawn_receiver(port: int, log: Path, secret_file: Path, flags: tuple[str, ...]) -> Receiver:
    """receiver.py on `port`, verifying with the secret written to `secret_file` later."""
    args = [sys.executable, str(RECEIVER), "--port", str(port), "--log", str(log)]
    with log.with_suffix(".out").open("wb") as sink:
        proc = subprocess.Popen(
            [*args, "--secret-file", str(secret_file), *flags],
            stdout=sink,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    return Receiver(proc, port, log, secret_file)


def server_events(server: Server, name: str) -> list[dict[str, Any]]:
    """The server's JSON log lines of one event."""
    lines = server.log.read_text().splitlines()
    events = [json.loads(line) for line in lines if line.startswith("{")]
    return [e for e in events if e.get("event") == name]


@dataclass
class Receiver:
    """A receiver.py process and the requests it logged."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path
    secret_file: Path

    @property
    def url(self) -> str:
        """The webhook URL to give the hub."""
        return f"http://127.0.0.1:{self.port}/hook"

    def trust(self, secret: str) -> None:
        """Verify from now on with this secret (written whole, then renamed into place)."""
        partial = self.secret_file.with_suffix(".partial")
        partial.write_text(secret)
        partial.replace(self.secret_file)

    def arrivals(self) -> list[dict[str, Any]]:
        """Every request logged so far, in arrival order (a half-written line is skipped)."""
        if not self.log.exists():
            return []
        text = self.log.read_text()
        return [json.loads(line) for line in text[: text.rfind("\n") + 1].splitlines()]

    async def wait_for(self, count: int, seconds: float = 20) -> list[dict[str, Any]]:
        """The arrivals once there are at least `count`."""

        def enough() -> list[dict[str, Any]] | None:
            found = self.arrivals()
            return found if len(found) >= count else None

        return await until(enough, seconds)

    def stop(self) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def body_of(arrival: dict[str, Any]) -> dict[str, Any]:
    """The JSON body a request carried."""
    return dict(json.loads(arrival["body"]))


async def until(check: Callable[[], Any], seconds: float = 20, every: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; return that."""
    deadline = time.monotonic() + seconds
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if time.monotonic() > deadline:
            name = getattr(check, "__qualname__", check)
            raise AssertionError(f"{name} still {value!r} after {seconds} s")
        await asyncio.sleep(every)


async def holds(check: Callable[[], bool], seconds: float) -> None:
    """Assert `check` stays true for `seconds` (for things that must not happen)."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert check()
        await asyncio.sleep(0.05)
    assert check()


# --- the API --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hub:
    """One clinic's view of the hub through one server: webhook, e-consults, notes, deliveries."""

    session: aiohttp.ClientSession
    server: Server
    network: Network
    spoke: SpokeUser
    patient_id: str
    service_id: int

    def via(self, server: Server) -> Hub:
        """The same clinic, talking to another server."""
        return dataclasses.replace(self, server=server)

    async def call(
        self, method: str, path: str, headers: dict[str, str], body: Any = None, expect: int = 200
    ) -> Any:
        """One JSON call, asserting its status."""
        url = self.server.url + path
        async with self.session.request(method, url, json=body, headers=headers) as response:
            text = await response.text()
            assert response.status == expect, f"{method} {path}: {response.status} {text}"
            return json.loads(text) if text else None

    async def set_webhook(self, url: str, *, full_payload: bool = False) -> dict[str, Any]:
        """PUT the clinic's webhook, as the clinic itself."""
        return dict(
            await self.call(
                "PUT",
                f"/api/v1/spokes/{self.spoke.id}/webhook",
                self.spoke.headers,
                {"url": url, "full_payload": full_payload},
            )
        )

    async def webhook(self) -> dict[str, Any]:
        """GET the clinic's webhook."""
        path = f"/api/v1/spokes/{self.spoke.id}/webhook"
        return dict(await self.call("GET", path, self.spoke.headers))

    async def ask(self) -> dict[str, Any]:
        """The clinic submits an e-consult (auto-assigned to the one consultant)."""
        body = {
            "patient_id": self.patient_id,
            "service_id": self.service_id,
            "referring_clinician": "Dr. Referrer",
            "question": "Buprenorphine induction with fentanyl use?",
        }
        return dict(await self.call("POST", "/api/v1/econsults", self.spoke.headers, body, 201))

    async def answer(self, econsult: dict[str, Any], assessment: str) -> dict[str, Any]:
        """The consultant drafts the e-consult's note (or its amendment) and signs it."""
        headers = self.network.consultant_headers(econsult["consultant_id"])
        sections = {
            "assessment": assessment,
            "recommendations": {"medications": "Start low-dose buprenorphine."},
            "follow_up": "Recheck in one week.",
            "visit_recommended": False,
        }
        path = f"/api/v1/econsults/{econsult['id']}/notes"
        draft = await self.call("POST", path, headers, {"sections": sections}, 201)
        return dict(await self.call("POST", f"/api/v1/notes/{draft['id']}/sign", headers))

    async def deliveries(self) -> list[dict[str, Any]]:
        """GET /api/v1/deliveries as the hub, newest first."""
        found = await self.call("GET", "/api/v1/deliveries", self.network.hub_admin_headers())
        return list(found["deliveries"])

    async def all_delivered(self, count: int) -> list[dict[str, Any]] | None:
        """The deliveries once there are `count` and all are delivered; else None."""
        found = await self.deliveries()
        done = len(found) == count and all(d["state"] == "delivered" for d in found)
        return found if done else None


# --- fixtures -------------------------------------------------------------------------------


class Lab:
    """One test's servers, receivers and seeding pool on one database, all stopped at the end."""

    def __init__(self, database_url: str, tmp_path: Path, session: aiohttp.ClientSession) -> None:
        self.database_url = database_url
        self.tmp_path = tmp_path
        self.session = session
        self.servers: list[Server] = []
        self.receivers: list[Receiver] = []
        self.pool: asyncpg.Pool | None = None

    async def server(self, env: Mapping[str, str] | None = None) -> Server:
        """A ready server (the first one migrates the empty database)."""
        log = self.tmp_path / f"server{len(self.servers)}.log"
        server = _spawn_server(self.database_url, log, env or {})
        self.servers.append(server)
        await asyncio.to_thread(wait_ready, server.url + "/readyz", server.proc)
        return server

    async def receiver(
        self, *flags: str, port: int | None = None, secret: str | None = None
    ) -> Receiver:
        """A ready receiver.py with these flags, on a new port unless one is given, trusting
        `secret` from its first request when given."""
        n = len(self.receivers)
        log, secret_file = self.tmp_path / f"receiver{n}.jsonl", self.tmp_path / f"secret{n}"
        if secret is not None:
            secret_file.write_text(secret)
        receiver = _spawn_receiver(port or free_port(), log, secret_file, flags)
        self.receivers.append(receiver)
        await asyncio.to_thread(
            wait_ready, receiver.url[: -len("/hook")] + "/health", receiver.proc
        )
        return receiver

    async def hub(self, env: Mapping[str, str] | None = None) -> Hub:
        """A ready server, and a clinic with a patient and an e-consult consultant behind it."""
        server = await self.server(env)
        settings = Settings(database_url=self.database_url, secret_key=SECRET, base_url=BASE_URL)
        if self.pool is None:
            self.pool = await create_pool(settings)
        network = Network(self.pool, settings)
        service = await network.service(kind="econsult", turnaround_hours=48, duration_minutes=30)
        await network.consultant([service])
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        return Hub(self.session, server, network, spoke, str(patient.id), service.id)

    async def close(self) -> None:
        """Stop every process this test started, then close the pool."""
        for server in self.servers:
            await asyncio.to_thread(server.stop)
        for receiver in self.receivers:
            await asyncio.to_thread(receiver.stop)
        if self.pool is not None:
            await self.pool.close()
