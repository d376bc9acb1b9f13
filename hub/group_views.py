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
from scheduling import attendance, attendance_store
from scheduling.attendance_store import Occurrence, Seat
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
