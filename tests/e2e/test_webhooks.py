"""Signed notes reach the clinic's webhook: real servers, a real receiver, real HTTP."""

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
from collections import Counter
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from consults.delivery import new_webhook_secret
from telehub.db import create_pool
from telehub.settings import Settings
from tests.e2e.processes import ROOT, TELEHUB, Server, free_port, wait_ready
from tests.factories import Network, SpokeUser

pytestmark = pytest.mark.slow
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


def _server_events(server: Server, name: str) -> list[dict[str, Any]]:
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


@pytest.fixture
async def lab(empty_database_url: str, tmp_path: Path) -> AsyncIterator[Lab]:
    """A place to start servers and receivers on one empty database; all stopped afterwards."""
    async with aiohttp.ClientSession() as session:
        lab = Lab(empty_database_url, tmp_path, session)
        try:
            yield lab
        finally:
            await lab.close()


# --- the tests ------------------------------------------------------------------------------


async def test_a_signed_note_arrives_signed_with_the_spokes_secret_and_thin_unless_opted_in(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver()
    issued = await hub.set_webhook(receiver.url)
    secret = issued["secret"]
    assert secret.startswith("whsec_")
    receiver.trust(secret)

    econsult = await hub.ask()
    note = await hub.answer(econsult, "Thin-form assessment that stays at the hub")
    [thin] = await receiver.wait_for(1)

    assert thin["verified"], thin["error"]
    assert thin["headers"]["webhook-id"].startswith("msg_")
    assert Webhook(secret).verify(thin["body"], thin["headers"]) == body_of(thin)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_webhook_secret()).verify(thin["body"], thin["headers"])
    event = body_of(thin)
    assert set(event) == {"type", "timestamp", "data"}
    assert event["type"] == "note.signed"
    assert set(event["data"]) == THIN_DATA
    assert event["data"]["note_id"] == note["id"]
    assert event["data"]["version"] == 1
    assert event["data"]["spoke_id"] == hub.spoke.id
    assert event["data"]["patient_id"] == hub.patient_id
    assert event["data"]["econsult_id"] == econsult["id"]
    assert event["data"]["booking_id"] is None
    assert event["data"]["links"]["note"] == f"{BASE_URL}/api/v1/notes/{note['id']}"
    for private in ("Thin-form assessment", "buprenorphine", "Zzyzx", "Given", "MRN-"):
        assert private not in thin["body"]

    again = await hub.set_webhook(receiver.url, full_payload=True)
    assert again["secret"] is None  # shown once: the clinic keeps the first one
    full_note = await hub.answer(await hub.ask(), "Full-form assessment the clinic asked for")
    full = (await receiver.wait_for(2))[1]

    assert full["verified"], full["error"]
    assert Webhook(secret).verify(full["body"], full["headers"])
    assert full["headers"]["webhook-id"].startswith("msg_")
    assert full["headers"]["webhook-id"] != thin["headers"]["webhook-id"]
    data = body_of(full)["data"]
    assert set(data) == {*THIN_DATA, "note"}
    assert data["note"]["sections"] == full_note["sections"]
    assert data["note"]["sections"]["assessment"] == "Full-form assessment the clinic asked for"
    assert data["note"]["consultant_id"] == full_note["consultant_id"]


async def test_a_note_signed_while_the_receiver_is_down_arrives_once_it_is_up_under_one_id(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    port = free_port()  # nobody listens here until the receiver starts
    secret = (await hub.set_webhook(f"http://127.0.0.1:{port}/hook"))["secret"]
    await hub.answer(await hub.ask(), "Assessment")

    async def failed_twice() -> dict[str, Any] | None:
        [delivery] = await hub.deliveries()
        logged = len(_server_events(hub.server, "webhook.failed"))
        tried = delivery["attempts"] >= 2 and delivery["last_error"] and logged >= 2
        return delivery if tried else None

    before = await until(failed_twice)
    assert before["state"] == "pending"
    assert f"127.0.0.1:{port}" in before["last_error"], before["last_error"]
    # Trusting from the start: the next attempt may come before the receiver is seen ready.
    receiver = await lab.receiver(port=port, secret=secret)

    [delivery] = await until(lambda: hub.all_delivered(1))
    [arrival] = receiver.arrivals()

    assert arrival["verified"], arrival["error"]
    assert arrival["headers"]["webhook-id"] == before["webhook_id"] == delivery["webhook_id"]
    assert delivery["attempts"] > before["attempts"] >= 2
    failed = _server_events(hub.server, "webhook.failed")
    assert {e["delivery"] for e in failed} == {delivery["id"]}  # every attempt: this event
    assert delivery["last_status"] == 204
    assert delivery["last_error"] is None


@pytest.mark.parametrize(
    ("flags", "failure", "error", "stall"),
    [
        (("--fail-first", "3"), 500, "HTTP 500", 0.0),
        (("--hang-first", "3"), "hang", f"no answer within {TIMEOUT:g} s", TIMEOUT),
    ],
    ids=["answering-500", "hanging-past-the-timeout"],
)
async def test_a_failing_receiver_is_retried_with_growing_gaps_under_one_id_until_delivered(
    lab: Lab, flags: tuple[str, ...], failure: int | str, error: str, stall: float
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver(*flags)
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    await hub.answer(await hub.ask(), "Assessment")

    [failing] = await until(lambda: _with_error(hub))
    [delivery] = await until(lambda: hub.all_delivered(1))
    arrivals = receiver.arrivals()

    assert failing["state"] == "pending"
    assert failing["last_error"] == error
    assert [a["answer"] for a in arrivals] == [failure, failure, failure, 204]
    assert {a["headers"]["webhook-id"] for a in arrivals} == {delivery["webhook_id"]}
    assert all(a["verified"] for a in arrivals)
    assert delivery["attempts"] == 4
    times = [a["time"] for a in arrivals]
    gaps = [later - earlier for earlier, later in pairwise(times)]
    # After failure n the retry waits at least half of base * 2^(n-1) (jitter is 50-100 %),
    # after the sender's timeout when the receiver hung; a little slack for the clocks.
    floors = [stall + BASE * 2 ** (n - 1) * 0.5 - 0.05 for n in (1, 2, 3)]
    assert all(gap >= floor for gap, floor in zip(gaps, floors, strict=True)), (gaps, floors)
    # Adjacent jittered ranges touch; two steps apart they cannot overlap: the wait grew.
    assert gaps[2] > gaps[0], gaps
    # Each attempt is stamped (and signed) anew: retries outlive the receivers' tolerance.
    stamps = [int(a["headers"]["webhook-timestamp"]) for a in arrivals]
    assert all(abs(stamp - a["time"]) < 2 for stamp, a in zip(stamps, arrivals, strict=True))
    assert stamps == sorted(stamps)


async def _with_error(hub: Hub) -> list[dict[str, Any]] | None:
    found = await hub.deliveries()
    return found if any(d["last_error"] for d in found) else None


async def test_a_delivery_cut_off_by_killing_the_server_is_delivered_after_the_lease_runs_out(
    lab: Lab,
) -> None:
    slow = {"TELEHUB_WEBHOOK_TIMEOUT": "2", "TELEHUB_WEBHOOK_LEASE": "3"}
    hub = await lab.hub(slow)
    receiver = await lab.receiver("--hang-first", "1")
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    await hub.answer(await hub.ask(), "Assessment")

    [first] = await receiver.wait_for(1)
    hub.server.proc.send_signal(signal.SIGKILL)
    hub.server.proc.wait()
    assert lab.pool is not None
    async with lab.pool.acquire() as conn:
        cut = await conn.fetchrow("SELECT attempts, delivered_at, last_error FROM outbox")
    assert dict(cut) == {"attempts": 1, "delivered_at": None, "last_error": None}  # mid-flight

    restarted = hub.via(await lab.server(slow))
    [delivery] = await until(lambda: restarted.all_delivered(1))
    arrivals = receiver.arrivals()

    assert first["answer"] == "hang"
    assert len(arrivals) >= 2
    assert arrivals[-1]["answer"] == 204
    assert {a["headers"]["webhook-id"] for a in arrivals} == {delivery["webhook_id"]}
    assert all(a["verified"] for a in arrivals)
    assert delivery["attempts"] >= 2


async def test_410_gone_disables_the_webhook_until_it_is_set_again_then_the_note_arrives(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver("--status-first", "1", "--status", "410")
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    await hub.answer(await hub.ask(), "Assessment")

    [gone] = await receiver.wait_for(1)
    disabled = await until(lambda: _disabled(hub))
    [held] = await hub.deliveries()

    assert gone["answer"] == 410
    assert disabled["disabled_reason"] == "410 Gone"
    assert held["state"] == "pending"
    assert held["last_status"] == 410
    # Were it still enabled, the retry would come within BASE seconds and a poll.
    await holds(lambda: len(receiver.arrivals()) == 1, seconds=2.0)

    again = await hub.set_webhook(receiver.url)
    assert again["disabled_at"] is None
    assert (await hub.webhook())["disabled_at"] is None
    [delivery] = await until(lambda: hub.all_delivered(1))
    first, second = receiver.arrivals()

    assert second["answer"] == 204
    assert second["verified"], second["error"]
    assert first["headers"]["webhook-id"] == second["headers"]["webhook-id"]
    assert second["headers"]["webhook-id"] == delivery["webhook_id"] == held["webhook_id"]


async def _disabled(hub: Hub) -> dict[str, Any] | None:
    webhook = await hub.webhook()
    return webhook if webhook["disabled_at"] else None


async def test_two_processes_deliver_each_of_six_notes_exactly_once(lab: Lab) -> None:
    patient = {"TELEHUB_WEBHOOK_TIMEOUT": "2"}  # no timeouts, even with POSTs queued per host
    hub = await lab.hub(patient)
    other = hub.via(await lab.server(patient))
    # Slow but well within the timeout: each POST is in flight over several polls of the other
    # process, which must leave leased events alone.
    receiver = await lab.receiver("--delay", str(3 * POLL))
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    econsults = [await hub.ask() for _ in range(6)]

    sides = [hub, other] * 3
    await asyncio.gather(
        *(side.answer(e, "Assessment") for side, e in zip(sides, econsults, strict=True))
    )
    deliveries = await until(lambda: hub.all_delivered(6))
    # A second claim of one event would be sent at about the same time: give it a moment.
    await holds(lambda: len(receiver.arrivals()) <= 6, seconds=0.5)
    arrivals = receiver.arrivals()

    per_id = Counter(a["headers"]["webhook-id"] for a in arrivals)
    assert per_id == Counter({d["webhook_id"]: 1 for d in deliveries})
    assert all(a["verified"] for a in arrivals)
    assert {body_of(a)["data"]["econsult_id"] for a in arrivals} == {e["id"] for e in econsults}
    assert all(d["attempts"] == 1 for d in deliveries)
    logged = [len(_server_events(s, "webhook.delivered")) for s in (hub.server, other.server)]
    assert sum(logged) == 6, logged


async def test_an_amendment_arrives_as_note_amended_version_2_under_a_new_webhook_id(
    lab: Lab,
) -> None:
    hub = await lab.hub()
    receiver = await lab.receiver()
    receiver.trust((await hub.set_webhook(receiver.url))["secret"])
    econsult = await hub.ask()

    original = await hub.answer(econsult, "First assessment")
    await receiver.wait_for(1)
    amended = await hub.answer(econsult, "Amended assessment")
    signed, amendment = await receiver.wait_for(2)

    assert amended["version"] == 2
    assert signed["verified"] and amendment["verified"]
    assert body_of(signed)["type"] == "note.signed"
    assert body_of(signed)["data"]["version"] == 1
    assert body_of(signed)["data"]["note_id"] == original["id"]
    assert body_of(amendment)["type"] == "note.amended"
    assert body_of(amendment)["data"]["version"] == 2
    assert body_of(amendment)["data"]["note_id"] == amended["id"]
    assert body_of(amendment)["data"]["econsult_id"] == econsult["id"]
    assert signed["headers"]["webhook-id"] != amendment["headers"]["webhook-id"]
    assert await until(lambda: hub.all_delivered(2))


async def test_after_an_outage_one_success_drains_the_clinics_other_events_at_once(
    lab: Lab,
) -> None:
    # Backoff long enough that, without the drain, the other events would still be waiting
    # out their own (a minute at least) when this test gives up waiting.
    hub = await lab.hub(
        {"TELEHUB_WEBHOOK_BACKOFF_BASE": "120", "TELEHUB_WEBHOOK_BACKOFF_MAX": "600"}
    )
    port = free_port()  # the clinic's endpoint is down: nobody listens here yet
    secret = (await hub.set_webhook(f"http://127.0.0.1:{port}/hook"))["secret"]
    for _ in range(3):
        await hub.answer(await hub.ask(), "Assessment")

    async def all_failed_once() -> list[dict[str, Any]] | None:
        found = await hub.deliveries()
        tried = len(found) == 3 and all(d["attempts"] == 1 and d["last_error"] for d in found)
        return found if tried else None

    waiting = {d["id"]: d for d in await until(all_failed_once)}
    receiver = await lab.receiver(port=port)
    receiver.trust(secret)
    first, *others = sorted(waiting)
    # The hub retries one by hand; its success is what releases the others.
    path = f"/api/v1/deliveries/{first}/retry"
    await hub.call("POST", path, hub.network.hub_admin_headers())
    delivered = {d["id"]: d for d in await until(lambda: hub.all_delivered(3))}
    arrivals = receiver.arrivals()

    assert len(arrivals) == 3 and all(a["verified"] for a in arrivals)
    assert {a["headers"]["webhook-id"] for a in arrivals} == {
        d["webhook_id"] for d in delivered.values()
    }
    assert arrivals[0]["headers"]["webhook-id"] == delivered[first]["webhook_id"]
    for other in others:
        # Sent before its own backoff ran out, on its second attempt: released, not retried.
        sent = datetime.fromisoformat(delivered[other]["delivered_at"])
        assert sent < datetime.fromisoformat(waiting[other]["next_attempt_at"])
        assert delivered[other]["attempts"] == 2
    released = _server_events(hub.server, "webhook.delivered")[0]
    assert released["delivery"] == first and released["released"] == 2
