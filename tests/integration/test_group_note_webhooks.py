"""A signed group note is pushed by the real delivery worker to its patient's clinic alone:
each clinic's webhook receives exactly its own patient's note, whose body names no other
patient of the group (ids, names, MRNs), even with the full payload switched on."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from pytest_aiohttp import AiohttpServer

from consults import notes
from consults.note_store import Subject
from scheduling import attendance
from scheduling.attendance_schemas import Mark
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.http.group_hub.support import STARTED, Group, group
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers

SECTIONS: dict[str, Any] = {
    "assessment": "Took part fully; no use since the last session.",
    "recommendations": {"therapy": "Keep coming weekly.", "moud": "", "medications": ""},
    "follow_up": "Next Monday's group.",
}


async def _sign_for(pool: asyncpg.Pool, g: Group, clock: Clock, seat_nos: list[int]) -> None:
    """The counselor records who came and signs a note for each of `seat_nos`."""
    hub = Caller("consultant", "c", KIND_SCOPES["consultant"], consultant_id=g.counselor.id)
    trail = Trail(hub.actor)
    async with pool.acquire() as conn, conn.transaction():
        marks = [Mark(seat=n, attendance="attended") for n in range(1, len(g.patients) + 1)]
        roster = await attendance.record(conn, hub, trail, g.id, 1, marks, now=clock.now)
        for seat in roster.seats:
            if seat.seat_no in seat_nos:
                await notes.save_and_sign(
                    conn,
                    hub,
                    trail,
                    Subject(group_seat_id=seat.id),
                    None,
                    SECTIONS,
                    base_url="http://telehub.test",
                    now=clock.now,
                )


async def test_each_clinic_receives_its_own_patients_group_note_and_nothing_else(
    pool: asyncpg.Pool,
    network: Network,
    settings: Settings,
    clock: Clock,
    aiohttp_server: AiohttpServer,
) -> None:
    g = await group(network, first_start=STARTED)
    async with pool.acquire() as conn:
        receivers = await clinic_receivers(conn, aiohttp_server, [c.id for c in g.clinics])
    received = receivers.received
    # Seats 1 and 3 are patients 0 and 2: both of the first clinic. Then seat 2, the second's.
    await _sign_for(pool, g, clock, [1, 3])
    assert await deliver_to_receivers(pool, settings) == 2
    first, second = g.clinics
    assert len(received[first.id]) == 2 and received[second.id] == []

    async with pool.acquire() as conn:
        seat_two = await conn.fetchval(
            "SELECT id FROM group_seats WHERE occurrence_id = $1 AND seat_no = 2",
            g.occurrences[0],
        )
        hub = Caller("consultant", "c", KIND_SCOPES["consultant"], consultant_id=g.counselor.id)
        await notes.save_and_sign(
            conn,
            hub,
            Trail(hub.actor),
            Subject(group_seat_id=seat_two),
            None,
            SECTIONS,
            base_url="http://telehub.test",
            now=clock.now,
        )
    assert await deliver_to_receivers(pool, settings) == 1
    assert len(received[second.id]) == 1

    for spoke_id, events in received.items():
        for event in (json.loads(body) for _, body in events):
            owner = uuid.UUID(event["data"]["patient_id"])
            assert event["type"] == "note.signed" and event["data"]["spoke_id"] == spoke_id
            assert event["data"]["note"]["sections"]["assessment"] == SECTIONS["assessment"]
            assert next(p for p in g.patients if p.id == owner).spoke_id == spoke_id
    for body in (body for events in received.values() for _, body in events):
        named = [p for p in g.patients if str(p.id) in body]
        assert len(named) == 1  # its own patient, by id alone
        for patient in g.patients:
            assert patient.family_name not in body and patient.given_name not in body
            assert patient.mrn not in body
        assert all(str(e) not in body for e in g.enrolments)
