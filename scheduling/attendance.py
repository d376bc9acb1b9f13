"""Attendance of a group's occurrence: the hub reads the roster and records who came.

Only the hub writes it (the occurrence's counselor, or the hub's administrators); a clinic
never reads another clinic's patients through here, so clinics are refused outright.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from scheduling import attendance_store
from scheduling.attendance_schemas import Mark
from scheduling.attendance_store import Occurrence, Seat
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class Roster:
    """An occurrence and its held seats, by seat number."""

    occurrence: Occurrence
    seats: list[Seat]


def _hub_only(caller: Caller) -> None:
    if caller.spoke_id is not None:
        raise Forbidden("the roster and attendance of a group are the hub's")


async def _occurrence(
    conn: asyncpg.Connection, caller: Caller, group_id: uuid.UUID, position: int, *, lock: bool
) -> Occurrence:
    _hub_only(caller)
    found = await attendance_store.occurrence(conn, group_id, position, lock=lock)
    if found is None or caller.consultant_id not in (None, found.consultant_id):
        raise NotFound("no such occurrence of the group")
    return found


async def _audited(
    conn: asyncpg.Connection, trail: Trail, action: audit.Action, seats: Sequence[Seat]
) -> None:
    """One audit row per seat, under its patient's clinic."""
    for spoke_id in sorted({s.spoke_id for s in seats}):
        ids = [s.id for s in seats if s.spoke_id == spoke_id]
        await audit.record(conn, trail, action, "group_seat", ids, spoke_id)


async def roster(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, group_id: uuid.UUID, position: int
) -> Roster:
    """The occurrence's held seats (every clinic's patients: the hub's view)."""
    found = await _occurrence(conn, caller, group_id, position, lock=False)
    seats = await attendance_store.seats(conn, found.id)
    await _audited(conn, trail, "read", seats)
    return Roster(found, seats)


def _resolve(marks: Sequence[Mark], seats: Sequence[Seat], started: bool) -> list[FieldError]:
    """What is wrong with each mark, named by its place in the list."""
    by_enrolment = {s.enrolment_id: s for s in seats}
    by_number = {s.seat_no: s for s in seats}
    errors: list[FieldError] = []
    seen: set[uuid.UUID] = set()
    for i, mark in enumerate(marks):
        name = "enrolment_id" if mark.enrolment_id is not None else "seat"
        held = (
            by_enrolment.get(mark.enrolment_id)
            if mark.enrolment_id is not None
            else by_number.get(mark.seat or 0)
        )
        if held is None:
            errors.append(FieldError(f"attendance.{i}.{name}", "holds no seat in this occurrence"))
        elif held.enrolment_id in seen:
            errors.append(FieldError(f"attendance.{i}.{name}", "is given twice"))
        elif mark.attendance != "excused" and not started:
            errors.append(
                FieldError(f"attendance.{i}.attendance", "can be recorded once the session starts")
            )
        if held is not None:
            seen.add(held.enrolment_id)
    return errors


async def record(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    position: int,
    marks: Sequence[Mark],
    *,
    now: datetime,
) -> Roster:
    """Record attendance for the marked seats, all or none; a bad mark is a 422 naming it.

    Excused can be said ahead (a patient may miss one occurrence and keep the seat); attended
    and no-show only once the occurrence has started.
    """
    found = await _occurrence(conn, caller, group_id, position, lock=True)
    if found.status == "cancelled":
        raise Conflict("this occurrence was cancelled: there is no attendance to record")
    seats = await attendance_store.seats(conn, found.id)
    errors = _resolve(marks, seats, started=found.start <= now)
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.detail}" for e in errors), errors=errors)
    by_number = {s.seat_no: s for s in seats}
    resolved = [
        attendance_store.Mark(m.enrolment_id or by_number[m.seat or 0].enrolment_id, m.attendance)
        for m in marks
    ]
    await attendance_store.record(conn, found.id, resolved, by=caller.actor, at=now)
    marked = {m.enrolment_id for m in resolved}
    await _audited(conn, trail, "update", [s for s in seats if s.enrolment_id in marked])
    after = await attendance_store.seats(conn, found.id)
    return Roster(found, after)
