"""E-consults: submitting, assigning, the clarification thread and its paused clock."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from consults import note_store, store
from consults.note_store import Subject
from consults.store import Econsult, Message, Scope
from consults.turnaround import BusinessHours, due_by, resumed_due_by
from hub import store as hub_store
from scheduling import bookings
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from telehub.settings import Settings

# An urgent e-consult is answered within one business day, whatever the service's turnaround.
URGENT_HOURS = 8


@dataclass(frozen=True, slots=True)
class NewEconsult:
    """What a clinic sends when it asks the hub."""

    patient_id: uuid.UUID
    service_id: int
    referring_clinician: str
    question: str
    clinical_context: dict[str, Any]
    urgency: str
    review_consultant_id: int | None = None
    review_start: datetime | None = None


def is_overdue(econsult: Econsult, now: datetime) -> bool:
    """Open, the hub holding it with the clock running, and past due.

    consults.store.list_econsults's `overdue_at` filter is the same rule, in SQL.
    """
    return econsult.status in ("submitted", "assigned") and econsult.due_at < now


def scope_of(caller: Caller) -> Scope:
    """Spokes see their own e-consults, consultants those assigned to them, the hub all."""
    return Scope(spoke_id=caller.spoke_id, consultant_id=caller.consultant_id)


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


async def business_hours(conn: asyncpg.Connection, settings: Settings) -> BusinessHours:
    """The hub's business hours with its holidays."""
    opens, closes = settings.hub_opening()
    return BusinessHours(
        zone=ZoneInfo(settings.hub_timezone),
        opens=opens,
        closes=closes,
        workdays=settings.hub_workday_numbers(),
        holidays=await store.holidays(conn),
    )


def turnaround_hours(service: scheduling_store.Service, urgency: str) -> int:
    """The business hours the hub has to answer an e-consult of this service and urgency."""
    assert service.turnaround_hours is not None  # required of e-consult services
    hours = service.turnaround_hours
    return min(hours, URGENT_HOURS) if urgency == "urgent" else hours


async def due_if_sent(
    conn: asyncpg.Connection,
    settings: Settings,
    service: scheduling_store.Service,
    urgency: str,
    at: datetime,
) -> datetime:
    """When an e-consult sent at `at` is due: what `submit` records, and what a form previews."""
    return due_by(await business_hours(conn, settings), at, turnaround_hours(service, urgency))


async def submit(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    new: NewEconsult,
    *,
    settings: Settings,
    now: datetime,
) -> Econsult:
    """Record a clinic's e-consult: booked into a review slot, or queued with a due-by time."""
    spoke_id = bookings.spoke_of(caller)
    patient = await spokes_store.get_patient(conn, spoke_id, new.patient_id)
    if patient is None:
        raise _invalid("patient_id", "no such patient at this clinic")
    service = await scheduling_store.get_service(conn, new.service_id)
    if service is None or not service.active or service.kind != "econsult":
        raise _invalid("service_id", "no active e-consult service with this id")
    booking_id = consultant_id = None
    if new.review_start is not None and new.review_consultant_id is not None:
        review = await bookings.book(
            conn,
            spoke_id,
            trail,
            bookings.NewBooking(
                service.id,
                new.review_consultant_id,
                patient.id,
                new.review_start,
                "E-consult review",
            ),
            now=now,
            video_url_template=settings.video_url_template,
        )
        booking_id, consultant_id, due_at = review.id, review.consultant_id, review.end
    else:
        due_at = await due_if_sent(conn, settings, service, new.urgency, now)
        if settings.econsult_auto_assign:
            consultant_id = await store.least_loaded_consultant(conn, service.id)
    econsult = await store.insert_econsult(
        conn,
        spoke_id=spoke_id,
        patient_id=patient.id,
        service_id=service.id,
        referring_clinician=new.referring_clinician,
        question=new.question,
        clinical_context=new.clinical_context,
        urgency=new.urgency,
        submitted_at=now,
        due_at=due_at,
        consultant_id=consultant_id,
        booking_id=booking_id,
        created_by=caller.actor,
    )
    await audit.record(conn, trail, "create", "econsult", [econsult.id], spoke_id)
    return econsult


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, econsult_id: uuid.UUID
) -> Econsult:
    """One e-consult the caller may see; another clinic's answers like a missing one."""
    econsult = await store.get_econsult(conn, econsult_id, scope_of(caller))
    if econsult is None:
        raise NotFound("no such e-consult")
    await audit.record(conn, trail, "read", "econsult", [econsult.id], econsult.spoke_id)
    return econsult


async def find(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    status: str | None,
    overdue_at: datetime | None,
    limit: int,
) -> list[Econsult]:
    """The caller's e-consults (the hub's worklist: soonest due first)."""
    found = await store.list_econsults(
        conn, scope_of(caller), status=status, overdue_at=overdue_at, limit=limit
    )
    for spoke_id in {e.spoke_id for e in found}:
        ids = [e.id for e in found if e.spoke_id == spoke_id]
        await audit.record(conn, trail, "read", "econsult", ids, spoke_id)
    return found


async def assign(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    econsult_id: uuid.UUID,
    consultant_id: int | None,
) -> Econsult:
    """A hub coordinator assigns a consultant, or the least-loaded eligible one."""
    if not caller.is_hub_admin:
        raise Forbidden("only the hub assigns e-consults")
    econsult = await store.get_econsult(conn, econsult_id, Scope(), lock=True)
    if econsult is None:
        raise NotFound("no such e-consult")
    if econsult.status not in ("submitted", "assigned"):
        raise Conflict(f"the e-consult is {econsult.status}; it can no longer be reassigned")
    if consultant_id is None:
        consultant_id = await store.least_loaded_consultant(conn, econsult.service_id)
        if consultant_id is None:
            raise Conflict("no active consultant offers this e-consult service")
    else:
        consultant = await hub_store.get_consultant(conn, consultant_id)
        if (
            consultant is None
            or not consultant.active
            or (econsult.service_id not in consultant.service_ids)
        ):
            raise _invalid("consultant_id", "no active consultant with this id offers it")
    assigned = await store.set_state(
        conn, econsult.id, status="assigned", consultant_id=consultant_id
    )
    await audit.record(conn, trail, "update", "econsult", [econsult.id], econsult.spoke_id)
    return assigned


async def post_message(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    econsult_id: uuid.UUID,
    *,
    body: str,
    asks_clinic: bool,
    settings: Settings,
    now: datetime,
) -> Message:
    """Add to the thread. A hub question to the clinic pauses the clock; its answer resumes it."""
    econsult = await store.get_econsult(conn, econsult_id, scope_of(caller), lock=True)
    if econsult is None:
        raise NotFound("no such e-consult")
    side = "spoke" if caller.spoke_id is not None else "hub"
    if side == "spoke" and asks_clinic:
        raise _invalid("asks_clinic", "only the hub asks the clinic")
    if econsult.status in ("closed", "cancelled"):
        raise Conflict(f"the e-consult is {econsult.status}")
    message = await store.insert_message(
        conn, econsult.id, side=side, author=caller.actor, body=body, asks_clinic=asks_clinic
    )
    if asks_clinic and econsult.status in ("submitted", "assigned"):
        if econsult.consultant_id is None:
            raise Conflict("assign a consultant before asking the clinic")
        await store.set_state(conn, econsult.id, status="awaiting_clinic", paused_at=now)
    elif side == "spoke" and econsult.status == "awaiting_clinic":
        assert econsult.paused_at is not None
        hours = await business_hours(conn, settings)
        due = resumed_due_by(hours, econsult.paused_at, econsult.due_at, now)
        await store.set_state(conn, econsult.id, status="assigned", due_at=due, paused_at=None)
    await audit.record(conn, trail, "update", "econsult", [econsult.id], econsult.spoke_id)
    return message


async def case(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, econsult_id: uuid.UUID
) -> tuple[Econsult, list[Message]]:
    """An e-consult the caller may see and its clarification thread (one audited read)."""
    econsult = await get(conn, caller, trail, econsult_id)
    return econsult, await store.list_messages(conn, econsult.id)


async def _visit_reason(conn: asyncpg.Connection, spoke_id: int, note: note_store.Note) -> str:
    """Why the visit is booked, in words the clinic reads: whose note, of which day (its date in
    the clinic's time zone); never an internal id."""
    consultant = await hub_store.get_consultant(conn, note.consultant_id)
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    assert note.signed_at is not None and spoke is not None
    signed = note.signed_at.astimezone(spoke.zone).strftime("%a %-d %b %Y")
    whose = f"{consultant.name}'s" if consultant else "the hub's"
    return f"Visit recommended by {whose} e-consult note of {signed}"


async def book_visit(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    econsult_id: uuid.UUID,
    *,
    service_id: int,
    consultant_id: int,
    start: datetime,
    now: datetime,
    video_url_template: str,
) -> Booking:
    """Turn an answered e-consult that recommends a visit into a booked video session."""
    spoke_id = bookings.spoke_of(caller)
    econsult = await store.get_econsult(conn, econsult_id, Scope(spoke_id=spoke_id), lock=True)
    if econsult is None:
        raise NotFound("no such e-consult")
    signed = [
        n
        for n in await note_store.notes_about(conn, Subject(econsult_id=econsult.id))
        if n.signed_at is not None
    ]
    if not signed or not signed[-1].sections.get("visit_recommended"):
        raise Conflict("the e-consult's signed note does not recommend a visit")
    if econsult.visit_booking_id is not None:
        earlier = await bookings.get(conn, caller, trail, econsult.visit_booking_id)
        if earlier.status != "cancelled":
            raise Conflict(
                f"a visit is booked already ({bookings.reference(earlier.id)}): "
                "reschedule or cancel it instead"
            )
    service = await scheduling_store.get_service(conn, service_id)
    if service is None or service.kind != "video_session":
        raise _invalid("service_id", "must be a video session service")
    reason = await _visit_reason(conn, spoke_id, signed[-1])
    booking = await bookings.book(
        conn,
        spoke_id,
        trail,
        bookings.NewBooking(
            service_id,
            consultant_id,
            econsult.patient_id,
            start,
            reason,
        ),
        now=now,
        video_url_template=video_url_template,
    )
    await store.set_visit(conn, econsult.id, booking.id)
    await audit.record(conn, trail, "update", "econsult", [econsult.id], spoke_id)
    return booking
