"""SQL for a group occurrence's roster and attendance: who holds a seat, and who came.

The hub reads the roster (every clinic's patients); a clinic never reads it through here.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Range

# What the counselor records; 'expected' is a seat not yet recorded, 'released' a freed one.
RECORDED = ("attended", "no_show", "excused")


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One meeting of a group, with its group's title and counselor."""

    id: uuid.UUID
    group_id: uuid.UUID
    position: int
    title: str
    consultant_id: int
    start: datetime
    end: datetime
    capacity: int
    status: str
    taken: int  # seats held (not released)


@dataclass(frozen=True, slots=True)
class Seat:
    """A patient's seat in one occurrence, with what was recorded of it."""

    id: uuid.UUID
    occurrence_id: uuid.UUID
    enrolment_id: uuid.UUID
    seat_no: int
    spoke_id: int
    patient_id: uuid.UUID
    attendance: str
    recorded_at: datetime | None
    consultant_id: int
    occurrence_status: str


@dataclass(frozen=True, slots=True)
class Mark:
    """Attendance to record for one seat, named by its enrolment."""

    enrolment_id: uuid.UUID
    attendance: str


_OCCURRENCE = """
    o.id, o.group_id, o.position, g.title, o.consultant_id, lower(o.period) AS start,
    upper(o.period) AS "end", o.capacity, o.status,
    (SELECT count(*) FROM group_seats s
      WHERE s.occurrence_id = o.id AND s.attendance <> 'released')::int AS taken
"""
_SEAT = """
    s.id, s.occurrence_id, s.enrolment_id, s.seat_no, s.spoke_id, s.patient_id, s.attendance,
    s.recorded_at, o.consultant_id, o.status AS occurrence_status
"""


def _occurrence(row: asyncpg.Record) -> Occurrence:
    return Occurrence(**dict(row))


async def occurrence(
    conn: asyncpg.Connection, group_id: uuid.UUID, position: int, *, lock: bool = False
) -> Occurrence | None:
    """One occurrence of a group, by its position (1 = the first meeting)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_OCCURRENCE}
        FROM group_occurrences o JOIN groups g ON g.id = o.group_id
        WHERE o.group_id = $1 AND o.position = $2
        {"FOR UPDATE OF o" if lock else ""}
        """,
        group_id,
        position,
    )
    return _occurrence(row) if row else None


async def occurrences_of(
    conn: asyncpg.Connection, consultant_id: int | None, *, since: datetime, until: datetime
) -> list[Occurrence]:
    """Occurrences starting in [since, until), a counselor's (or every one), soonest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_OCCURRENCE}
        FROM group_occurrences o JOIN groups g ON g.id = o.group_id
        WHERE ($1::bigint IS NULL OR o.consultant_id = $1)
          AND o.period && $2::tstzrange
        ORDER BY lower(o.period), g.title, o.id
        """,
        consultant_id,
        Range(since, until),
    )
    return [_occurrence(r) for r in rows]


async def seats(conn: asyncpg.Connection, occurrence_id: uuid.UUID) -> list[Seat]:
    """The held seats of an occurrence (released ones left out), by seat number."""
    rows = await conn.fetch(
        f"""
        SELECT {_SEAT}
        FROM group_seats s JOIN group_occurrences o ON o.id = s.occurrence_id
        WHERE s.occurrence_id = $1 AND s.attendance <> 'released'
        ORDER BY s.seat_no
        """,
        occurrence_id,
    )
    return [Seat(**dict(r)) for r in rows]


async def seat(conn: asyncpg.Connection, seat_id: uuid.UUID) -> Seat | None:
    """One seat, with its occurrence's counselor."""
    row = await conn.fetchrow(
        f"""
        SELECT {_SEAT}
        FROM group_seats s JOIN group_occurrences o ON o.id = s.occurrence_id
        WHERE s.id = $1
        """,
        seat_id,
    )
    return Seat(**dict(row)) if row else None


async def record(
    conn: asyncpg.Connection,
    occurrence_id: uuid.UUID,
    marks: Sequence[Mark],
    *,
    by: str,
    at: datetime,
) -> int:
    """Record attendance for held seats of the occurrence; how many seats were written."""
    written = await conn.fetchval(
        """
        WITH marks AS (
            SELECT * FROM unnest($2::uuid[], $3::text[]) AS m (enrolment_id, attendance)
        ), changed AS (
            UPDATE group_seats s SET attendance = m.attendance, recorded_at = $5, recorded_by = $4
            FROM marks m
            WHERE s.occurrence_id = $1 AND s.enrolment_id = m.enrolment_id
              AND s.attendance <> 'released'
            RETURNING s.id
        )
        SELECT count(*) FROM changed
        """,
        occurrence_id,
        [m.enrolment_id for m in marks],
        [m.attendance for m in marks],
        by,
        at,
    )
    return int(written)


@dataclass(frozen=True, slots=True)
class GroupSummary:
    """A group as the hub lists it: who runs it, and its next meeting still to come."""

    id: uuid.UUID
    title: str
    service_id: int
    consultant_id: int
    capacity: int
    count: int
    repeat: str
    next_position: int | None
    next_start: datetime | None
    next_taken: int | None
    scheduled_left: int


async def group_summaries(conn: asyncpg.Connection, *, since: datetime) -> list[GroupSummary]:
    """Every group with a scheduled occurrence from `since` on, its next one first."""
    rows = await conn.fetch(
        """
        SELECT g.id, g.title, g.service_id, g.consultant_id, g.capacity, g.count, g.repeat,
               n.position AS next_position, lower(n.period) AS next_start,
               (SELECT count(*) FROM group_seats s
                 WHERE s.occurrence_id = n.id AND s.attendance <> 'released')::int AS next_taken,
               (SELECT count(*) FROM group_occurrences o
                 WHERE o.group_id = g.id AND o.status = 'scheduled'
                   AND upper(o.period) > $1)::int AS scheduled_left
        FROM groups g
        JOIN LATERAL (
            SELECT o.id, o.position, o.period FROM group_occurrences o
            WHERE o.group_id = g.id AND o.status = 'scheduled' AND upper(o.period) > $1
            ORDER BY o.position LIMIT 1
        ) n ON true
        ORDER BY lower(n.period), g.title, g.id
        """,
        since,
    )
    return [GroupSummary(**dict(r)) for r in rows]
