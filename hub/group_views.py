"""Read models for the counselor's group pages: my groups' occurrences, and one occurrence's
roster with each attending patient's note. The hub sees every clinic's patients here; nothing
here is ever shown to a clinic."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from consults import notes
from consults.note_store import Note, Subject
from hub import store as hub_store
from hub.store import Consultant
from scheduling import attendance, attendance_store, groups
from scheduling import store as scheduling_store
from scheduling.attendance_store import GroupSummary, Occurrence, Seat
from scheduling.bookings import GROUP_KIND
from scheduling.groups import Group
from scheduling.store import Service
from spokes import store as spokes_store
from spokes.store import Patient, Spoke
from telehub.audit import Trail
from telehub.auth import Caller

# My groups shows the last two weeks (attendance and notes to finish) and the next five.
BEFORE = timedelta(days=14)
AFTER = timedelta(days=35)


async def my_occurrences(
    conn: asyncpg.Connection, consultant_id: int, now: datetime
) -> list[Occurrence]:
    """The counselor's group occurrences around now, soonest first (numbers only: no patient)."""
    return await attendance_store.occurrences_of(
        conn, consultant_id, since=now - BEFORE, until=now + AFTER
    )


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One held seat: the patient, their clinic, and (once attended) their note's versions."""

    seat: Seat
    patient: Patient | None
    clinic: Spoke | None
    versions: list[Note]


@dataclass(frozen=True, slots=True)
class OccurrenceView:
    """One occurrence of a group as its counselor reads it."""

    occurrence: Occurrence
    rows: list[RosterRow]

    def row(self, seat_id: uuid.UUID) -> RosterRow | None:
        """The row of a seat, if it is one of this occurrence's."""
        return next((r for r in self.rows if r.seat.id == seat_id), None)


async def occurrence(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, group_id: uuid.UUID, position: int
) -> OccurrenceView:
    """The roster of an occurrence (audited), with each attending patient's note versions."""
    roster = await attendance.roster(conn, caller, trail, group_id, position)
    people = await spokes_store.patients_by_id(conn, None, [s.patient_id for s in roster.seats])
    clinics = {s.id: s for s in await spokes_store.list_spokes(conn)}
    rows = []
    for seat in roster.seats:
        versions = (
            await notes.versions(conn, caller, trail, Subject(group_seat_id=seat.id))
            if seat.attendance == "attended"
            else []
        )
        rows.append(
            RosterRow(seat, people.get(seat.patient_id), clinics.get(seat.spoke_id), versions)
        )
    rows.sort(
        key=lambda r: (r.patient.family_name, r.patient.given_name) if r.patient else ("", "")
    )
    return OccurrenceView(roster.occurrence, rows)


# --- the coordinator's pages --------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GroupsPage:
    """The hub's running groups and what the create form offers."""

    groups: list[GroupSummary]
    services: list[Service]  # active group-session services
    counselors: list[Consultant]  # active consultants offering one of them
    names: dict[int, str]  # consultant names by id


async def groups_page(conn: asyncpg.Connection, now: datetime) -> GroupsPage:
    """Every group with a session still to come, and the services and counselors to choose."""
    offered = [
        s for s in await scheduling_store.list_services(conn) if s.kind == GROUP_KIND and s.active
    ]
    everyone = await hub_store.list_consultants(conn)
    counselors = [c for c in everyone if c.active and set(c.service_ids) & {s.id for s in offered}]
    return GroupsPage(
        await attendance_store.group_summaries(conn, since=now),
        offered,
        counselors,
        {c.id: c.name for c in everyone},
    )


async def counselor_zone(conn: asyncpg.Connection, consultant_id: int | None) -> str | None:
    """The counselor's time zone, in which the form's first start is read (None: unknown)."""
    found = await hub_store.get_consultant(conn, consultant_id) if consultant_id else None
    return found.timezone if found else None


@dataclass(frozen=True, slots=True)
class GroupPage:
    """One group as the hub manages it: its sessions with seats taken, its counselor."""

    group: Group
    counselor: Consultant | None
    service: Service | None


async def group_page(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, group_id: uuid.UUID
) -> GroupPage:
    """A group with every occurrence (numbers only are shown: seats taken of capacity)."""
    found = groups.without_seats(await groups.get(conn, caller, trail, group_id))
    return GroupPage(
        found,
        await hub_store.get_consultant(conn, found.consultant_id),
        await scheduling_store.get_service(conn, found.service_id),
    )
