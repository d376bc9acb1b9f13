"""Read models for the consultant's pages: each page asks one function for what it shows.

The functions may join what they need across packages (the people, clinics and services a
page names); the page handlers in `hub.pages` then reach into no package's SQL themselves.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from care import registry as care_registry
from care import review
from care.registry import CaseloadRow
from care.review import Agenda
from care.review_store import Recommendation
from consults import econsults, notes
from consults import store as consults_store
from consults.note_store import Note, Subject
from consults.store import Econsult, Message
from hub import store
from hub.store import Consultant
from scheduling import attendance_store, bookings, feeds
from scheduling import store as scheduling_store
from scheduling.attendance_store import Occurrence
from scheduling.booking_store import Booking
from scheduling.bookings import BookingFilter
from scheduling.feed_store import FeedOwner
from scheduling.slots import Period
from scheduling.store import ExceptionRow, Service
from spokes import store as spokes_store
from spokes.store import Patient, Spoke
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import NotFound


async def consultant(conn: asyncpg.Connection, consultant_id: int) -> Consultant:
    """The consultant whose pages these are."""
    found = await store.get_consultant(conn, consultant_id)
    if found is None:
        raise NotFound("no such consultant")
    return found


async def services_by_id(conn: asyncpg.Connection, ids: Iterable[int]) -> dict[int, Service]:
    """The services named, including retired ones that old bookings still point at."""
    found = {s.id: s for s in await scheduling_store.list_services(conn)}
    for service_id in set(ids) - found.keys():
        service = await scheduling_store.get_service(conn, service_id)
        if service is not None:
            found[service_id] = service
    return found


async def spokes_by_id(conn: asyncpg.Connection) -> dict[int, Spoke]:
    """Every clinic by id (a handful: names for the pages)."""
    return {s.id: s for s in await spokes_store.list_spokes(conn)}


@dataclass(frozen=True, slots=True)
class Week:
    """A consultant's week: the bookings, who and what they are about, the hours changed, and
    the group sessions they run (numbers only: who holds a seat is the roster's business)."""

    consultant: Consultant
    bookings: list[Booking]
    patients: dict[uuid.UUID, Patient]
    services: dict[int, Service]
    spokes: dict[int, Spoke]
    cases: dict[uuid.UUID, uuid.UUID]  # booking -> the e-consult it is the review block of
    exceptions: list[ExceptionRow]  # time off and extra hours overlapping the week
    groups: list[Occurrence]  # their group occurrences starting in the week, soonest first


async def week(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, who: Consultant, shown: Period
) -> Week:
    """What "my week" shows for the period `shown`."""
    which = BookingFilter(start=shown.start, end=shown.end, limit=500)
    found = await bookings.find(conn, caller, trail, which)
    _, exceptions = await scheduling_store.get_availability(conn, who.id)
    groups = await attendance_store.occurrences_of(conn, who.id, since=shown.start, until=shown.end)
    return Week(
        consultant=who,
        bookings=found,
        patients=await spokes_store.patients_by_id(conn, None, [b.patient_id for b in found]),
        services=await services_by_id(conn, {b.service_id for b in found}),
        spokes=await spokes_by_id(conn),
        cases=await consults_store.econsults_by_booking(conn, [b.id for b in found]),
        exceptions=[e for e in exceptions if e.end > shown.start and e.start < shown.end],
        groups=[o for o in groups if o.start >= shown.start],  # one begun before: last week's
    )


@dataclass(frozen=True, slots=True)
class Worklist:
    """The e-consults assigned to a consultant: open (soonest due first) and answered."""

    open: list[Econsult]
    answered: list[Econsult]
    overdue: set[uuid.UUID]
    patients: dict[uuid.UUID, Patient]
    spokes: dict[int, Spoke]


async def worklist(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, now: datetime
) -> Worklist:
    """The consultant's worklist."""
    overdue = await econsults.find(conn, caller, trail, status=None, overdue_at=now, limit=500)
    waiting = [
        e
        for status in ("assigned", "awaiting_clinic")
        for e in await econsults.find(
            conn, caller, trail, status=status, overdue_at=None, limit=500
        )
    ]
    answered = await econsults.find(
        conn, caller, trail, status="answered", overdue_at=None, limit=100
    )
    waiting.sort(key=lambda e: (e.due_at, e.id))
    patients = await spokes_store.patients_by_id(
        conn, None, [e.patient_id for e in waiting + answered]
    )
    return Worklist(waiting, answered, {e.id for e in overdue}, patients, await spokes_by_id(conn))


@dataclass(frozen=True, slots=True)
class Case:
    """One e-consult as its consultant reads it, with its thread and its note's versions."""

    econsult: Econsult
    thread: list[Message]
    versions: list[Note]
    patient: Patient | None
    spoke: Spoke | None
    service: Service | None


async def _noted(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, subject: Subject, of: Booking | Econsult
) -> tuple[list[Note], Patient | None, Spoke | None, Service | None]:
    """A case's or a session's note versions, patient, clinic and service, for its page."""
    versions = await notes.versions(conn, caller, trail, subject)
    patients = await spokes_store.patients_by_id(conn, None, [of.patient_id])
    return (
        versions,
        patients.get(of.patient_id),
        await spokes_store.get_spoke(conn, of.spoke_id),
        await scheduling_store.get_service(conn, of.service_id),
    )


async def case(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, econsult_id: uuid.UUID
) -> Case:
    """An e-consult's case page."""
    econsult, thread = await econsults.case(conn, caller, trail, econsult_id)
    noted = await _noted(conn, caller, trail, Subject(econsult_id=econsult.id), econsult)
    return Case(econsult, thread, *noted)


@dataclass(frozen=True, slots=True)
class Session:
    """A video session or case review and its note; `econsult_id` when it is a review block."""

    booking: Booking
    econsult_id: uuid.UUID | None
    versions: list[Note]
    patient: Patient | None
    spoke: Spoke | None
    service: Service | None


async def session(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking_id: uuid.UUID
) -> Session:
    """A booking's note page (an e-consult review block names its case instead)."""
    booking = await bookings.get(conn, caller, trail, booking_id)
    case_id = (await consults_store.econsults_by_booking(conn, [booking.id])).get(booking.id)
    if case_id is not None:
        return Session(booking, case_id, [], None, None, None)
    noted = await _noted(conn, caller, trail, Subject(booking_id=booking.id), booking)
    return Session(booking, None, *noted)


async def feed(
    conn: asyncpg.Connection, consultant_id: int, secret_key: str
) -> feeds.CurrentFeed | None:
    """The consultant's current feed URL (None: none), its token when it can be shown again."""
    return await feeds.current(conn, FeedOwner(consultant_id=consultant_id), secret_key)


@dataclass(frozen=True, slots=True)
class CaseReview:
    """A case review's agenda page: the agenda, its consultant, the patients by id, and the
    recommendations already made in it by episode (with the patient of any no longer flagged)."""

    agenda: Agenda
    consultant: Consultant
    patients: dict[uuid.UUID, Patient]
    recorded: dict[uuid.UUID, Recommendation]
    done: list[tuple[Recommendation, uuid.UUID]]  # made here, patient no longer on the agenda


async def case_review(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking_id: uuid.UUID, *, now: datetime
) -> CaseReview:
    """What a case review's agenda page shows (the consultant's, or any for hub staff)."""
    shown = await review.agenda(conn, caller, trail, booking_id, now=now)
    on_agenda = {item.row.episode.id for item in shown.items}
    done: list[tuple[Recommendation, uuid.UUID]] = []
    for made in shown.recorded:
        if made.episode_id not in on_agenda:
            episode = await care_registry.get_episode(conn, caller, trail, made.episode_id)
            done.append((made, episode.patient_id))
    patient_ids = [item.row.episode.patient_id for item in shown.items] + [p for _, p in done]
    return CaseReview(
        agenda=shown,
        consultant=await consultant(conn, shown.consultant_id),
        patients=await spokes_store.patients_by_id(conn, None, patient_ids),
        recorded={r.episode_id: r for r in shown.recorded},
        done=done,
    )


@dataclass(frozen=True, slots=True)
class Registry:
    """The consultant's worklist of registry patients: safety first, then by flag order."""

    safety: list[CaseloadRow]
    rest: list[CaseloadRow]
    patients: dict[uuid.UUID, Patient]
    spokes: dict[int, Spoke]
    consultants: dict[int, Consultant]


async def registry(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    today: date,
    consultant_id: int | None,
    spoke_id: int | None = None,
) -> Registry:
    """The open episodes of one consultant across clinics (None: every consultant's, for hub
    staff), optionally of one clinic, with the safety-flagged ones apart and first."""
    rows = await care_registry.caseload(
        conn, caller, trail, today=today, consultant_id=consultant_id, spoke_id=spoke_id
    )
    people = await store.list_consultants(conn, include_inactive=True)
    return Registry(
        safety=[r for r in rows if "safety" in r.flags],
        rest=[r for r in rows if "safety" not in r.flags],
        patients=await spokes_store.patients_by_id(
            conn, None, [r.episode.patient_id for r in rows]
        ),
        spokes=await spokes_by_id(conn),
        consultants={c.id: c for c in people},
    )


async def safety_count(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, consultant_id: int, today: date
) -> int:
    """How many of the consultant's open episodes carry the safety flag (for "My week")."""
    rows = await care_registry.caseload(
        conn, caller, trail, today=today, consultant_id=consultant_id, flag="safety"
    )
    return len(rows)
