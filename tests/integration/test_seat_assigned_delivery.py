"""`group.seat_assigned` reaches the waiting patient's clinic through the real delivery worker,
signed like every webhook (Standard Webhooks), and only that clinic: the clinic whose patient
withdrew hears nothing, and the body names no patient but the waiting clinic's own (by id,
never by name)."""

from __future__ import annotations

import json

import asyncpg
from pytest_aiohttp import AiohttpServer

from scheduling import group_seats
from telehub.audit import Trail
from telehub.settings import Settings
from tests.factories import Network
from tests.factories.groups import NOW, enrol, group, spoke_caller
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers


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

    receivers = await clinic_receivers(conn, aiohttp_server, [clinic.id, waiting.id])

    async with conn.transaction():
        await group_seats.withdraw(
            conn, spoke_caller(clinic), Trail("test"), made.id, left.id, 2, NOW
        )

    assert await deliver_to_receivers(pool, settings) == 1

    assert receivers.received[clinic.id] == []
    event = receivers.event_of(waiting.id)
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
