"""E-consults and consult notes as the clinic's pages show them: one read model per page.

Each function gathers what one page shows, through the consults, scheduling and hub packages'
domain functions, so that a page handler asks once and renders.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg

from consults import econsults, notes
from consults.note_store import Note, Subject
from consults.store import Econsult, Message
from hub import store as hub_store
from hub.store import Consultant
from scheduling import availability
from scheduling import store as scheduling_store
from scheduling.slots import Period
from scheduling.store import Service
from spokes import patients
from spokes import store as spokes_store
from spokes.overview import clinic_of, consultant_names
from spokes.store import Patient, Spoke
from telehub.audit import Trail
from telehub.auth import Caller

OPEN = ("submitted", "assigned", "awaiting_clinic", "answered")
CLOSED = ("closed", "cancelled")
# The parts of the list the dashboard's counts link to.
SHOWN = {"waiting": "waiting on your answer", "past_due": "past due"}
VISIT_DAYS = 14


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
class EconsultChoices:
    """What the e-consult form offers: the clinic's patients and the e-consult services."""

    spoke: Spoke
    patients: list[Patient]
    services: list[Service]


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
    econsult: Econsult | None


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
    conn: asyncpg.Connection, caller: Caller, trail: Trail
) -> EconsultChoices:
    """The clinic's patients and the active e-consult services, for the e-consult form."""
    return EconsultChoices(
        spoke=await clinic_of(conn, caller),
        patients=await patients.find(conn, caller, trail, mrn=None, limit=500),
        services=[
            s
            for s in await scheduling_store.list_services(conn)
            if s.active and s.kind == "econsult"
        ],
    )


async def econsult_case(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, econsult_id: uuid.UUID, now: datetime
) -> EconsultCase:
    """One of the clinic's e-consults (another clinic's answers like a missing one)."""
    econsult, messages = await econsults.case(conn, caller, trail, econsult_id)
    patient = await patients.get(conn, caller, trail, econsult.patient_id)
    versions = await notes.versions(conn, caller, trail, Subject(econsult_id=econsult.id))
    latest = versions[-1] if versions else None
    recommended = latest is not None and bool(latest.sections.get("visit_recommended"))
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
            if latest is not None and recommended
            else None
        ),
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
    conn: asyncpg.Connection, caller: Caller, trail: Trail, note_id: uuid.UUID
) -> NoteView:
    """A signed consult note of the clinic's, with the e-consult it answers (if any)."""
    note = await notes.get(conn, caller, trail, note_id)
    subject = Subject(econsult_id=note.econsult_id, booking_id=note.booking_id)
    return NoteView(
        spoke=await clinic_of(conn, caller),
        note=note,
        patient=await patients.get(conn, caller, trail, note.patient_id),
        consultant=await hub_store.get_consultant(conn, note.consultant_id),
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
