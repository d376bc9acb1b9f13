"""The clinic's dashboard as one read model: what the page shows, gathered in one place.

The page handler asks `clinic_dashboard` and renders what it returns; the joins across the
scheduling, consults and hub packages happen here, through their domain functions.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from consults import disclosure, econsults, notes
from consults.disclosure import HeldNote
from consults.note_store import Note
from consults.store import Econsult, Message
from hub import store as hub_store
from scheduling import bookings, group_seats, waitlist
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from scheduling.bookings import BookingFilter
from scheduling.group_seats_store import Assigned
from scheduling.waitlist_store import WaitRequest
from spokes import store
from spokes.store import Patient, Spoke
from telehub.audit import Trail
from telehub.auth import Caller

UPCOMING_DAYS = 14
SEATS_SHOWN_DAYS = 14  # seats given from a group's waitlist stay on the dashboard this long
LISTED = 50


@dataclass(frozen=True, slots=True)
class Asked:
    """An e-consult waiting on the clinic, with the hub's latest message (its question)."""

    econsult: Econsult
    question: Message | None


@dataclass(frozen=True, slots=True)
class ClinicDashboard:
    """What the clinic's dashboard shows, in the clinic's time zone."""

    spoke: Spoke
    today: list[Booking]
    later: list[Booking]
    waiting_notes: list[Note]
    overdue: list[Econsult]
    asked: list[Asked]
    patients: dict[uuid.UUID, Patient]
    consultants: dict[int, str]
    services: dict[int, str]
    opened: list[WaitRequest]  # waitlist requests told of a time that has not passed yet
    seats_assigned: list[Assigned]  # the clinic's waiting patients given a group seat lately
    held: list[HeldNote]  # signed notes waiting for their patients' consent (no body)


def hub_question(messages: list[Message]) -> Message | None:
    """The hub's latest message in a thread: what it asked the clinic (None if it said nothing)."""
    from_hub = [m for m in messages if m.side == "hub"]
    return from_hub[-1] if from_hub else None


async def clinic_of(conn: asyncpg.Connection, caller: Caller) -> Spoke:
    """The signed-in user's clinic: its name and the time zone its people read times in."""
    spoke = await store.get_spoke(conn, caller.spoke_id or 0)
    assert spoke is not None  # a clinic user's spoke exists (foreign key)
    return spoke


async def consultant_names(conn: asyncpg.Connection) -> dict[int, str]:
    """Every consultant's name by id, those no longer active included (old notes name them)."""
    return {c.id: c.name for c in await hub_store.list_consultants(conn, include_inactive=True)}


async def service_names(conn: asyncpg.Connection) -> dict[int, str]:
    """The active services' names by id."""
    return {s.id: s.name for s in await scheduling_store.list_services(conn)}


async def clinic_dashboard(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, now: datetime
) -> ClinicDashboard:
    """Today's and the next two weeks' sessions, notes to acknowledge, e-consults to act on."""
    spoke = await clinic_of(conn, caller)
    upcoming = await bookings.find(
        conn,
        caller,
        trail,
        BookingFilter(start=now, end=now + timedelta(days=UPCOMING_DAYS), status="booked"),
    )
    # A held note is not the clinic's to acknowledge: it is counted as held, apart.
    waiting_notes = [
        n
        for n in await notes.inbox(conn, caller, trail, acknowledged=False, limit=LISTED, now=now)
        if getattr(n, "waiting_for", None) is None
    ]
    held = await disclosure.held_notes(conn, spoke_id=spoke.id)
    opened = [r for r in await waitlist.mine(conn, caller, trail) if r.told and r.told.end > now]
    seats = await group_seats.assigned_since(
        conn, caller, trail, now - timedelta(days=SEATS_SHOWN_DAYS)
    )
    overdue = await econsults.find(conn, caller, trail, status=None, overdue_at=now, limit=LISTED)
    asked = []
    for econsult in await econsults.find(
        conn, caller, trail, status="awaiting_clinic", overdue_at=None, limit=LISTED
    ):
        _, messages = await econsults.case(conn, caller, trail, econsult.id)
        asked.append(Asked(econsult, hub_question(messages)))
    patient_ids = (
        {b.patient_id for b in upcoming}
        | {n.patient_id for n in waiting_notes}
        | {e.patient_id for e in overdue}
        | {a.econsult.patient_id for a in asked}
        | {r.patient_id for r in opened if r.patient_id is not None}
        | {a.patient_id for a in seats}
        | {h.patient_id for h in held}
    )
    today = now.astimezone(spoke.zone).date()
    return ClinicDashboard(
        spoke=spoke,
        today=[b for b in upcoming if b.start.astimezone(spoke.zone).date() == today],
        later=[b for b in upcoming if b.start.astimezone(spoke.zone).date() != today],
        waiting_notes=waiting_notes,
        overdue=overdue,
        asked=asked,
        patients=await store.patients_by_id(conn, spoke.id, list(patient_ids)),
        consultants=await consultant_names(conn),
        services=await service_names(conn),
        opened=opened,
        seats_assigned=seats,
        held=held,
    )
