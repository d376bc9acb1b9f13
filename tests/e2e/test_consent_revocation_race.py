"""A consent revoked while its note is on the wire, across real processes: the telehub server's
worker has leased the note and POSTed it to a real receiver that holds the request open; the
clinic revokes the consent through the API meanwhile. The delivery under way completes (it
was authorised when leased) and is accounted under that consent; the next note for the
patient is held at signing, shown to the hub as held, and never sent."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import web

from tests.e2e.processes import free_port
from tests.e2e.webhook_lab import Hub, Lab, holds, until

pytestmark = pytest.mark.slow

# Long enough that the held-open request neither times out nor outlives its lease.
PATIENT = {"TELEHUB_WEBHOOK_TIMEOUT": "60", "TELEHUB_WEBHOOK_LEASE": "120"}


class HoldingReceiver:
    """A clinic's webhook endpoint on loopback that takes each request, says it arrived, and
    answers 204 only once the test lets it go."""

    def __init__(self) -> None:
        self.arrivals: list[dict[str, Any]] = []
        self.arrived = asyncio.Event()
        self.release = asyncio.Event()
        self.answered = 0
        self.port = free_port()

    @property
    def url(self) -> str:
        """The webhook URL to give the hub."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def hook(self, request: web.Request) -> web.Response:
        """Note the request, then hold it open until released."""
        self.arrivals.append(json.loads(await request.text()))
        self.arrived.set()
        await self.release.wait()
        self.answered += 1
        return web.Response(status=204)


@pytest.fixture
async def receiver() -> AsyncIterator[HoldingReceiver]:
    """A holding receiver listening on 127.0.0.1; released and stopped at the end."""
    made = HoldingReceiver()
    app = web.Application()
    app.router.add_post("/hook", made.hook)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", made.port).start()
    try:
        yield made
    finally:
        made.release.set()
        await runner.cleanup()


async def _state_of(hub: Hub, note_id: str) -> dict[str, Any]:
    async with hub.network.pool.acquire() as conn:
        row = await conn.fetchrow(
            """
            SELECT o.webhook_id, o.consent_id, o.held_at, o.held_reason, o.delivered_at,
                   o.attempts, o.leased_until,
                   (SELECT count(*) FROM disclosures d WHERE d.note_id = o.note_id) AS disclosed
            FROM outbox o WHERE o.note_id = $1
            """,
            uuid.UUID(note_id),
        )
    assert row is not None
    return dict(row)


async def test_a_delivery_in_flight_completes_and_the_next_note_is_held_never_sent(
    lab: Lab, receiver: HoldingReceiver
) -> None:
    hub = await lab.hub(PATIENT)
    await hub.set_webhook(receiver.url)
    async with hub.network.pool.acquire() as conn:
        consent_id = await conn.fetchval(
            "SELECT id FROM consents WHERE patient_id = $1", uuid.UUID(hub.patient_id)
        )
    first = await hub.answer(await hub.ask(), "Assessment sent before the revocation")
    # The worker has leased the note and its POST is open at the receiver.
    await asyncio.wait_for(receiver.arrived.wait(), timeout=30)
    leased = await _state_of(hub, first["id"])
    assert leased["leased_until"] is not None and leased["delivered_at"] is None

    revoked = await hub.call(
        "POST",
        f"/api/v1/consents/{consent_id}/revoke",
        hub.spoke.headers,
        {"revoked_on": "2026-11-30", "how": "written"},
    )
    assert revoked["held"] == 0  # the one under way is not withheld: it was leased before
    second = await hub.answer(await hub.ask(), "Assessment after the revocation")
    receiver.release.set()

    async def first_delivered() -> bool:
        return (await _state_of(hub, first["id"]))["delivered_at"] is not None

    await until(first_delivered)
    done, held = await _state_of(hub, first["id"]), await _state_of(hub, second["id"])
    assert receiver.answered == 1
    assert [a["data"]["note_id"] for a in receiver.arrivals] == [first["id"]]
    assert receiver.arrivals[0]["data"]["part2"]["consent"]["id"] == str(consent_id)
    assert done["consent_id"] == consent_id and done["disclosed"] == 1
    assert held["held_at"] is not None and held["delivered_at"] is None
    assert held["held_reason"] == (
        "no consent for treatment, payment and operations in force that covers e-consult answers"
    )
    assert (held["attempts"], held["leased_until"], held["disclosed"]) == (0, None, 0)
    shown = {d["webhook_id"]: d for d in await hub.deliveries()}
    assert shown[done["webhook_id"]]["state"] == "delivered"
    assert shown[held["webhook_id"]]["state"] == "held"
    assert shown[held["webhook_id"]]["held_reason"] == held["held_reason"]
    # The worker keeps polling (every 0.1 s): the held note never goes.
    await holds(lambda: len(receiver.arrivals) == 1, seconds=1.0)
    assert (await _state_of(hub, second["id"]))["attempts"] == 0
