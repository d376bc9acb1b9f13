"""`slot.opened` reaches the waiting clinic through the real delivery worker, signed like every
webhook (Standard Webhooks), and only that clinic: the clinic whose booking was cancelled hears
nothing, and the body names no patient but the waiting clinic's own (by id, never by name)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import asyncpg
from pytest_aiohttp import AiohttpServer

from scheduling import bookings, waitlist
from scheduling.waitlist import Wanted
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.settings import Settings
from tests.factories import Clock, Network, SpokeUser, booking_in_store
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers


def caller_of(spoke: SpokeUser) -> Caller:
    """The spoke's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


async def test_the_waiting_clinic_receives_a_signed_slot_opened_and_no_one_else(
    pool: asyncpg.Pool,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    clock: Clock,
    aiohttp_server: AiohttpServer,
) -> None:
    service = await network.service()
    consultant = await network.consultant([service])
    clinic, waiting = await network.spoke(), await network.spoke()
    booked_patient = await network.patient(clinic, family_name="Cancelledson")
    waiting_patient = await network.patient(waiting, family_name="Waitwell")
    booked = await booking_in_store(
        conn,
        service_id=service.id,
        consultant_id=consultant.id,
        spoke_id=clinic.id,
        patient_id=booked_patient.id,
        start=datetime(2027, 3, 8, 17, 0, tzinfo=UTC),
    )
    request = await waitlist.join(
        conn,
        caller_of(waiting),
        Trail("test"),
        Wanted(service.id, consultant.id, None, "VT", date(2027, 3, 10), waiting_patient.id),
        now=clock.now,
    )

    receivers = await clinic_receivers(conn, aiohttp_server, [clinic.id, waiting.id])

    async with conn.transaction():
        await bookings.cancel(
            conn, caller_of(clinic), Trail("test"), booked, reason="Patient asked", now=clock.now
        )

    assert await deliver_to_receivers(pool, settings) == 1

    assert receivers.received[clinic.id] == []
    event = receivers.event_of(waiting.id)
    assert event["type"] == "slot.opened"
    assert event["data"]["waitlist_id"] == str(request.id)
    assert event["data"]["patient_id"] == str(waiting_patient.id)
    assert event["data"]["slot"] == {
        "service_id": service.id,
        "consultant_id": consultant.id,
        "start": "2027-03-08T17:00:00Z",
        "end": "2027-03-08T18:00:00Z",
    }
    text = json.dumps(event)
    for never in ("Cancelledson", "Waitwell", str(booked_patient.id), booked_patient.mrn):
        assert never not in text
