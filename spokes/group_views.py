"""What the clinic's group pages show: groups with seat counts, and the clinic's OWN patients.

A clinic sees how many seats each session has taken and its own patients' seats and places on
a waitlist; another clinic's patients are never read here. Groups themselves come from
`scheduling.groups` (which shows a clinic counts and its own seats only); the clinic's places
in them from `spokes.group_store`, every query bounded by the clinic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import asyncpg

from scheduling import groups
from scheduling import store as scheduling_store
from scheduling.groups import Group, Occurrence
from spokes import group_store, patients
from spokes import store as spokes_store
from spokes.overview import clinic_of, consultant_names
from spokes.store import Patient, Spoke
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller

LOOK_AHEAD = timedelta(weeks=8)  # how far "find a group" looks when no last day is given
CADENCE = {"once": "once", "weekly": "every week", "every_2_weeks": "every 2 weeks"}


@dataclass(frozen=True, slots=True)
class Session:
    """One meeting of a group as a clinic sees it: when, and how many seats are taken."""

    position: int
    start: datetime
    end: datetime
    status: str
    seats_taken: int
    capacity: int

    @property
    def open_seats(self) -> int:
        """Seats still free (none in a cancelled session)."""
        return 0 if self.status == "cancelled" else max(self.capacity - self.seats_taken, 0)


@dataclass(frozen=True, slots=True)
class Listed:
    """A group as the clinic sees it, with the sessions still to come."""

    id: uuid.UUID
    title: str
    service: str
    counselor: str
    repeat: str
    capacity: int
    occurrences: list[Session]
    now: datetime

    @property
    def cadence(self) -> str:
        """How often it meets, in words."""
        return CADENCE.get(self.repeat, self.repeat)

    @property
    def remaining(self) -> list[Session]:
        """Sessions not begun and not cancelled, by position."""
        return [o for o in self.occurrences if o.status != "cancelled" and o.start > self.now]

    @property
    def next(self) -> Session | None:
        """The next session to come."""
        return self.remaining[0] if self.remaining else None

    @property
    def open_seats(self) -> int:
        """Seats free in every session to come (a seat is in each of them, or none)."""
        return min((o.open_seats for o in self.remaining), default=0)


@dataclass(frozen=True, slots=True)
class Seat:
    """One of the clinic's patients in the group."""

    enrolment_id: uuid.UUID
    patient: Patient
    from_position: int
    withdrawn_from: int | None
    excused: tuple[int, ...]
    to_come: list[Session]  # sessions still to come in which the seat is held

    @property
    def excusable(self) -> list[Session]:
        """Sessions to come the patient may still be excused from."""
        return [o for o in self.to_come if o.position not in self.excused]


@dataclass(frozen=True, slots=True)
class Waiting:
    """One of the clinic's patients waiting for a seat."""

    entry_id: uuid.UUID
    patient: Patient
    since: datetime


@dataclass(frozen=True, slots=True)
class GroupPage:
    """A group's page: its sessions with seat counts, the clinic's own patients in it and
    waiting for it, and the patient being enrolled (when one is chosen)."""

    spoke: Spoke
    group: Listed
    seats: list[Seat]
    waiting: list[Waiting]
    patient: Patient | None
    matches: list[Patient] = field(default_factory=list)

    @property
    def full(self) -> bool:
        """No seat left in some session to come (so a patient can only wait)."""
        return bool(self.group.remaining) and self.group.open_seats == 0

    @property
    def patient_enrolled(self) -> bool:
        """Whether the chosen patient holds a seat still."""
        return self.patient is not None and any(
            s.patient.id == self.patient.id and s.withdrawn_from is None for s in self.seats
        )

    @property
    def patient_waiting(self) -> bool:
        """Whether the chosen patient is on the waitlist."""
        return self.patient is not None and any(
            w.patient.id == self.patient.id for w in self.waiting
        )


@dataclass(frozen=True, slots=True)
class OwnGroup:
    """A group in which the clinic has patients: counts only."""

    id: uuid.UUID
    title: str
    counselor: str
    own_patients: int
    own_waiting: int


@dataclass(frozen=True, slots=True)
class PatientGroup:
    """One patient's place in a group, for the patient's page."""

    group: Listed
    from_position: int | None  # None: waiting for a seat
    withdrawn_from: int | None
    excused: tuple[int, ...]


def _session(o: Occurrence) -> Session:
    return Session(o.position, o.start, o.end, o.status, o.seats_taken, o.capacity)


async def _listed(conn: asyncpg.Connection, found: Group, now: datetime) -> Listed:
    service = await scheduling_store.get_service(conn, found.service_id)
    counselors = await consultant_names(conn)
    return Listed(
        found.id,
        found.title,
        service.name if service else "Group",
        counselors.get(found.consultant_id, "a counselor"),
        found.repeat,
        found.capacity,
        [_session(o) for o in found.occurrences],
        now,
    )


async def group_services(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    """The group services a clinic can look among (id, name)."""
    return await group_store.group_service_ids(conn)


async def find(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    service_id: int,
    start: datetime,
    end: datetime,
    patient_state: str,
    now: datetime,
) -> list[Listed]:
    """Groups of a service with an open seat between start and end, whose counselor is
    licensed in the patient's state."""
    found = await groups.find_open(
        conn, caller, trail, service_id, start, end, patient_state, now=now
    )
    return [await _listed(conn, g, now) for g in found]


async def open_groups(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    service_ids: list[int],
    patient_state: str,
    first: date | None,
    last: date | None,
    now: datetime,
) -> list[Listed]:
    """Groups of the services with an open seat in a session from the first day (or now) to
    the end of the last (or LOOK_AHEAD on), days in the clinic's zone; soonest first."""
    spoke = await clinic_of(conn, caller)
    start = max(now, datetime.combine(first, time(), spoke.zone)) if first else now
    end = datetime.combine(last + timedelta(days=1), time(), spoke.zone) if last else None
    end = end or start + LOOK_AHEAD
    if end <= start:
        return []
    found = []
    for service_id in service_ids:
        found += await find(
            conn,
            caller,
            trail,
            service_id=service_id,
            start=start,
            end=end,
            patient_state=patient_state,
            now=now,
        )
    return sorted(found, key=lambda g: (g.next.start if g.next else end, g.title))


async def patient_of(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID | None
) -> Patient | None:
    """The clinic's patient the pages are for (another clinic's answers like a missing one)."""
    return await patients.get(conn, caller, trail, patient_id) if patient_id else None


async def own_groups(conn: asyncpg.Connection, caller: Caller) -> list[OwnGroup]:
    """Groups in which the clinic has patients, with how many (no names: nothing audited)."""
    spoke = await clinic_of(conn, caller)
    counselors = await consultant_names(conn)
    return [
        OwnGroup(g.group_id, g.title, counselors.get(g.consultant_id, "—"), g.enrolled, g.waiting)
        for g in await group_store.clinic_groups(conn, spoke.id)
    ]


async def group_page(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    now: datetime,
    *,
    patient_id: uuid.UUID | None = None,
    mrn: str | None = None,
) -> GroupPage:
    """A group with its seat counts, the clinic's own patients in it and waiting (reads
    audited), and the patient chosen by id or MRN."""
    spoke = await clinic_of(conn, caller)
    listed = await _listed(conn, await groups.get(conn, caller, trail, group_id), now)
    enrolments = await group_store.enrolments_in(conn, spoke.id, group_id)
    waiting = await group_store.waiting_in(conn, spoke.id, group_id)
    ids = list({e.patient_id for e in enrolments} | {w.patient_id for w in waiting})
    people = await spokes_store.patients_by_id(conn, spoke.id, ids)
    await audit.record(conn, trail, "read", "patient", ids, spoke.id)
    seats = [
        Seat(
            e.id,
            people[e.patient_id],
            e.from_position,
            e.withdrawn_from,
            e.excused,
            [
                o
                for o in listed.remaining
                if o.position >= e.from_position
                and (e.withdrawn_from is None or o.position < e.withdrawn_from)
            ],
        )
        for e in enrolments
        if e.patient_id in people
    ]
    matches = await patients.find(conn, caller, trail, mrn=mrn, limit=5) if mrn else []
    patient = await patient_of(conn, caller, trail, patient_id)
    if patient is None and len(matches) == 1:
        patient = matches[0]
    return GroupPage(
        spoke,
        listed,
        seats,
        [
            Waiting(w.id, people[w.patient_id], w.created_at)
            for w in waiting
            if w.patient_id in people
        ],
        patient,
        matches,
    )


async def patient_groups(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, now: datetime
) -> list[PatientGroup]:
    """One of the clinic's patients' groups: enrolled (withdrawn too) and waiting for."""
    spoke = await clinic_of(conn, caller)
    shown = []
    for e in await group_store.enrolments_of(conn, spoke.id, patient_id):
        group = await _listed(conn, await groups.get(conn, caller, trail, e.group_id), now)
        shown.append(PatientGroup(group, e.from_position, e.withdrawn_from, e.excused))
    for w in await group_store.waiting_of(conn, spoke.id, patient_id):
        group = await _listed(conn, await groups.get(conn, caller, trail, w.group_id), now)
        shown.append(PatientGroup(group, None, None, ()))
    return shown
