"""E-consults and consult notes as the clinic's pages show them: one read model per page.

Each function gathers what one page shows, through the consults, scheduling and hub packages'
domain functions, so that a page handler asks once and renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg

from consults import econsults, notes
from consults.disclosure import Channel
from consults.note_store import Note, Subject
from consults.store import Econsult, Message
from consults.turnaround import BusinessHours
from hub import store as hub_store
from hub.store import Consultant
from scheduling import availability, bookings
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from scheduling.slots import Period
from scheduling.store import Service
from spokes import patients
from spokes import store as spokes_store
from spokes.overview import clinic_of, consultant_names
from spokes.store import Patient, Spoke
from telehub import users
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.settings import Settings
from telehub.web import zone_name

OPEN = ("submitted", "assigned", "awaiting_clinic", "answered")
CLOSED = ("closed", "cancelled")
# The parts of the list the dashboard's counts link to.
SHOWN = {"waiting": "waiting on your answer", "past_due": "past due"}
VISIT_DAYS = 14
_ANY_DAY = date(2027, 1, 4)  # only the length of the opening hours counts
_WEEKDAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True, slots=True)
class EconsultList:
    """The clinic's e-consults: open ones soonest due first, then recently closed."""

    spoke: Spoke
    open_ones: list[Econsult]
    done: list[Econsult]
    patients: dict[uuid.UUID, Patient]
    past_due: set[uuid.UUID]
    show: str | None  # one part only: a key of SHOWN


@dataclass(frozen=True, slots=True)
class Turnaround:
    """An e-consult service's answer time, and when an e-consult sent now would be due."""

    service: Service
    routine_hours: int
    urgent_hours: int
    routine_due: datetime
    urgent_due: datetime


@dataclass(frozen=True, slots=True)
class EconsultChoices:
    """What the e-consult form offers: the clinic's patients and the e-consult services."""

    spoke: Spoke
    patients: list[Patient]
    services: list[Turnaround]
    hub_hours: BusinessHours


@dataclass(frozen=True, slots=True)
class VisitTime:
    """An open video visit with the consultant who answered."""

    start: datetime
    service_id: int
    service_name: str


@dataclass(frozen=True, slots=True)
class EconsultCase:
    """One e-consult: the question, its thread, the answer and the visit it may recommend."""

    spoke: Spoke
    econsult: Econsult
    messages: list[Message]
    patient: Patient
    service: Service | None
    consultant: Consultant | None
    latest: Note | None
    visits: list[VisitTime] | None  # None: no visit recommended
    visit: Booking | None  # the recommended visit, once booked (and not cancelled)
    past_due: bool
    open_question: Message | None  # the hub's question the clinic has yet to answer


@dataclass(frozen=True, slots=True)
class NoteView:
    """A signed consult note with what it answers: the question, the signer, the versions."""

    spoke: Spoke
    note: Note
    patient: Patient
    consultant: Consultant | None
    versions: list[Note]
    econsult: Econsult | None  # what was asked, for a note answering an e-consult
    signer: str  # who signed it: the person, or the consultant a hub system signed for


@dataclass(frozen=True, slots=True)
class Inbox:
    """Signed consult notes: those to acknowledge, then the newest acknowledged ones."""

    spoke: Spoke
    waiting: list[Note]
    read: list[Note]
    patients: dict[uuid.UUID, Patient]
    consultants: dict[int, str]


async def econsult_list(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    now: datetime,
    show: str | None = None,
) -> EconsultList:
    """The clinic's e-consults, open and closed; or only those waiting on it, or past due."""
    spoke = await clinic_of(conn, caller)
    show = show if show in SHOWN else None
    open_ones = [
        e
        for status in (("awaiting_clinic",) if show == "waiting" else OPEN)
        for e in await econsults.find(
            conn, caller, trail, status=status, overdue_at=None, limit=200
        )
        if show != "past_due" or econsults.is_overdue(e, now)
    ]
    done = [
        e
        for status in (CLOSED if show is None else ())
        for e in await econsults.find(
            conn, caller, trail, status=status, overdue_at=None, limit=100
        )
    ]
    ids = list({e.patient_id for e in open_ones + done})
    return EconsultList(
        spoke=spoke,
        open_ones=sorted(open_ones, key=lambda e: e.due_at),
        done=sorted(done, key=lambda e: e.due_at, reverse=True),
        patients=await spokes_store.patients_by_id(conn, spoke.id, ids),
        past_due={e.id for e in open_ones if econsults.is_overdue(e, now)},
        show=show,
    )


async def econsult_choices(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, settings: Settings, now: datetime
) -> EconsultChoices:
    """The clinic's patients and the active e-consult services, each with the due time an
    e-consult sent now would get (the same computation `econsults.submit` records)."""
    services = [
        s for s in await scheduling_store.list_services(conn) if s.active and s.kind == "econsult"
    ]
    return EconsultChoices(
        spoke=await clinic_of(conn, caller),
        patients=await patients.find(conn, caller, trail, mrn=None, limit=500),
        services=[
            Turnaround(
                service=s,
                routine_hours=econsults.turnaround_hours(s, "routine"),
                urgent_hours=econsults.turnaround_hours(s, "urgent"),
                routine_due=await econsults.due_if_sent(conn, settings, s, "routine", now),
                urgent_due=await econsults.due_if_sent(conn, settings, s, "urgent", now),
            )
            for s in services
        ],
        hub_hours=await econsults.business_hours(conn, settings),
    )


def business_time_words(hours: BusinessHours, amount: int) -> str:
    """Business hours as people count them: whole business days when they make some, else the
    hours and about how many days ("48 business hours, about 5 business days")."""
    day = datetime.combine(_ANY_DAY, hours.closes) - datetime.combine(_ANY_DAY, hours.opens)
    days = timedelta(hours=amount) / day
    if days == int(days):
        return _days(int(days))
    if days < 1:
        return f"{amount} business hours"
    return f"{amount} business hours, about {_days(round(days))}"


def business_hours_words(hours: BusinessHours) -> str:
    """The hub's opening hours in a line: "Mon to Fri, 08:00 to 17:00, America/New York time"."""
    names = [_WEEKDAYS[d] for d in sorted(hours.workdays)]
    contiguous = sorted(hours.workdays) == list(range(min(hours.workdays), max(hours.workdays) + 1))
    days = f"{names[0]} to {names[-1]}" if contiguous and len(names) > 2 else ", ".join(names)
    opening = f"{hours.opens:%H:%M} to {hours.closes:%H:%M}"
    return f"{days}, {opening}, {zone_name(str(hours.zone))} time"


def _days(count: int) -> str:
    return f"{count} business day{'' if count == 1 else 's'}"


async def econsult_case(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, econsult_id: uuid.UUID, now: datetime
) -> EconsultCase:
    """One of the clinic's e-consults (another clinic's answers like a missing one)."""
    econsult, messages = await econsults.case(conn, caller, trail, econsult_id)
    patient = await patients.get(conn, caller, trail, econsult.patient_id)
    versions = await notes.versions(conn, caller, trail, Subject(econsult_id=econsult.id))
    latest = versions[-1] if versions else None
    recommended = latest is not None and bool(latest.sections.get("visit_recommended"))
    visit = (
        await bookings.get(conn, caller, trail, econsult.visit_booking_id)
        if econsult.visit_booking_id
        else None
    )
    if visit is not None and visit.status == "cancelled":
        visit = None
    return EconsultCase(
        spoke=await clinic_of(conn, caller),
        econsult=econsult,
        messages=messages,
        patient=patient,
        service=await scheduling_store.get_service(conn, econsult.service_id),
        consultant=(
            await hub_store.get_consultant(conn, econsult.consultant_id)
            if econsult.consultant_id
            else None
        ),
        latest=latest,
        visits=(
            await _visit_times(conn, latest, patient.state, now)
            if latest is not None and recommended and visit is None
            else None
        ),
        visit=visit,
        past_due=econsults.is_overdue(econsult, now),
        open_question=(
            next((m for m in reversed(messages) if m.side == "hub" and m.asks_clinic), None)
            if econsult.status == "awaiting_clinic"
            else None
        ),
    )


async def _visit_times(
    conn: asyncpg.Connection, note: Note, patient_state: str, now: datetime
) -> list[VisitTime]:
    """The answering consultant's open video visits in the next two weeks, soonest first."""
    consultant = await hub_store.get_consultant(conn, note.consultant_id)
    if consultant is None or not consultant.active:
        return []
    found: list[VisitTime] = []
    for service in await scheduling_store.list_services(conn):
        if service.kind != "video_session" or not service.active:
            continue
        if service.id not in consultant.service_ids:
            continue
        slots = await availability.search(
            conn,
            service_id=service.id,
            window=Period(now, now + timedelta(days=VISIT_DAYS)),
            consultant_id=consultant.id,
            patient_state=patient_state,
            now=now,
        )
        found += [VisitTime(s.start.astimezone(UTC), service.id, service.name) for s in slots]
    return sorted(found, key=lambda v: (v.start, v.service_name))


async def note_view(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    note_id: uuid.UUID,
    *,
    channel: Channel = "page",
    now: datetime | None = None,
) -> NoteView:
    """A signed consult note of the clinic's, with the e-consult it answers (if any); its body
    is disclosed through `channel` (the page, or its printout) under Part 2, or held."""
    note = await notes.get(conn, caller, trail, note_id, channel=channel, now=now)
    subject = Subject.of(note)
    consultant = await hub_store.get_consultant(conn, note.consultant_id)
    person = await users.name_of_actor(conn, note.signed_by or "")
    return NoteView(
        spoke=await clinic_of(conn, caller),
        note=note,
        patient=await patients.get(conn, caller, trail, note.patient_id),
        consultant=consultant,
        signer=person or (consultant.name if consultant else "the hub"),
        versions=await notes.versions(conn, caller, trail, subject),
        econsult=(
            await econsults.get(conn, caller, trail, note.econsult_id) if note.econsult_id else None
        ),
    )


async def inbox(conn: asyncpg.Connection, caller: Caller, trail: Trail) -> Inbox:
    """The clinic's signed consult notes."""
    spoke = await clinic_of(conn, caller)
    waiting = await notes.inbox(conn, caller, trail, acknowledged=False, limit=200)
    # The store lists oldest first: keep the newest acknowledged ones, newest first.
    read = (await notes.inbox(conn, caller, trail, acknowledged=True, limit=500))[::-1][:50]
    ids = list({n.patient_id for n in waiting + read})
    return Inbox(
        spoke=spoke,
        waiting=waiting,
        read=read,
        patients=await spokes_store.patients_by_id(conn, spoke.id, ids),
        consultants=await consultant_names(conn),
    )
