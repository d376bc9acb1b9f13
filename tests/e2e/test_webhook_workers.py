"""Delivery across processes: a delivery cut off by killing its server is delivered after the
lease runs out, and two processes deliver each note exactly once."""

from __future__ import annotations

import asyncio
import signal
from collections import Counter

import pytest

from tests.e2e.webhook_lab import POLL, Lab, body_of, holds, server_events, until

pytestmark = pytest.mark.slow


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
    logged = [len(server_events(s, "webhook.delivered")) for s in (hub.server, other.server)]
    assert sum(logged) == 6, logged
