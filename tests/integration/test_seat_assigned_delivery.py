"""`group.seat_assigned` reaches the waiting patient's clinic through the real delivery worker,
signed like every webhook (Standard Webhooks), and only that clinic: the clinic whose patient
withdrew hears nothing, and the body names no patient but the waiting clinic's own (by id,
never by name)."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from pytest_aiohttp import AiohttpServer
from standardwebhooks.webhooks import Webhook as Verifier

from consults.delivery import deliver_due, new_webhook_secret
from consults.webhook_address import webhook_connector
from scheduling import group_seats
from spokes import store as spokes_store
from telehub.audit import Trail
from telehub.settings import Settings
from tests.factories import Network
from tests.factories.groups import NOW, enrol, group, spoke_caller
from tests.webhook_fakes import FakeResolver


async def test_the_waiting_clinic_receives_a_signed_seat_assigned_and_no_one_else(
    pool: asyncpg.Pool,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    aiohttp_server: AiohttpServer,
) -> None:
    made = await group(network, capacity=2, count=2, title="MOUD support group · Tuesdays 18:00")
    clinic, waiting = await network.spoke(), await network.spoke()
    leaving = await network.patient(clinic, family_name="Leavesby")
    staying = await network.patient(clinic, family_name="Staysworth")
    hopeful = await network.patient(waiting, family_name="Waitwell")
    left = await enrol(network, clinic, made.id, leaving.id)
    await enrol(network, clinic, made.id, staying.id)
    async with conn.transaction():
        place = await group_seats.wait(
            conn, spoke_caller(waiting), Trail("test"), made.id, hopeful.id, NOW
        )

    received: dict[int, list[tuple[dict[str, str], str]]] = {clinic.id: [], waiting.id: []}

    async def hook(request: web.Request) -> web.Response:
        received[int(request.match_info["spoke"])].append(
            (dict(request.headers), await request.text())
        )
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/clinic/{spoke}", hook)
    receiver = await aiohttp_server(app, host="127.0.0.1")
    secrets: dict[int, str] = {}
    for spoke in (clinic, waiting):
        secrets[spoke.id] = new_webhook_secret()
        await spokes_store.set_webhook(
            conn,
            spoke.id,
            url=f"http://receiver:{receiver.port}/clinic/{spoke.id}",
            secret=secrets[spoke.id],
            full_payload=True,
        )

    async with conn.transaction():
        await group_seats.withdraw(
            conn, spoke_caller(clinic), Trail("test"), made.id, left.id, 2, NOW
        )

    dns = FakeResolver({"receiver": ["127.0.0.1"]})
    async with aiohttp.ClientSession(
        connector=webhook_connector(allow_private=True, resolver=dns)
    ) as session:
        assert await deliver_due(pool, session, settings) == 1

    assert received[clinic.id] == []
    [(headers, body)] = received[waiting.id]
    event: dict[str, Any] = Verifier(secrets[waiting.id]).verify(body, headers)
    assert event["type"] == "group.seat_assigned"
    data = event["data"]
    assert data["waitlist_id"] == str(place.id)
    assert data["patient_id"] == str(hopeful.id)
    assert (data["group_id"], data["title"]) == (
        str(made.id),
        "MOUD support group · Tuesdays 18:00",
    )
    assert (data["from_position"], data["occurrence_from"]) == (2, "2027-03-15T22:00:00Z")
    text = json.dumps(event)
    for never in ("Leavesby", "Staysworth", "Waitwell", str(leaving.id), str(staying.id)):
        assert never not in text
