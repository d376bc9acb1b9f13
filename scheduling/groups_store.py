"""SQL for groups, their occurrences and seats (migration 017)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Range

from scheduling.groups_schemas import Attendance, OccurrenceStatus, Repeat


class Overlap(Exception):
    """An occurrence's time overlaps a booking or another group of the counselor."""


_GROUP_COLUMNS = """
    id, service_id, consultant_id, title, capacity, repeat, count, first_start, zone,
    created_by, created_at
"""
_OCCURRENCE_COLUMNS = """
    o.id, o.group_id, o.position, o.consultant_id, lower(o.period) AS start,
    upper(o.period) AS "end", o.capacity, o.status, o.video_link, o.cancelled_at,
    o.cancel_reason,
    (SELECT count(*) FROM group_seats s
     WHERE s.occurrence_id = o.id AND s.attendance <> 'released')::int AS seats_taken
"""


@dataclass(frozen=True, slots=True)
class GroupRow:
    """A group as stored (its occurrences apart)."""

    id: uuid.UUID
    service_id: int
    consultant_id: int
    title: str
    capacity: int
    repeat: Repeat
    count: int
    first_start: datetime
    zone: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    """One meeting of a group, with how many seats are held."""

    id: uuid.UUID
    group_id: uuid.UUID
    position: int
    consultant_id: int
    start: datetime
    end: datetime
    capacity: int
    status: OccurrenceStatus
    video_link: str | None
    cancelled_at: datetime | None
    cancel_reason: str | None
    seats_taken: int


@dataclass(frozen=True, slots=True)
class SeatRow:
    """A patient's seat in one occurrence."""

    id: uuid.UUID
    occurrence_id: uuid.UUID
    enrolment_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    seat_no: int
    attendance: Attendance


@dataclass(frozen=True, slots=True)
class Hold:
    """Time of a consultant already held, by a booking or a group's occurrence."""

    start: datetime
    end: datetime
    booking: bool


async def insert_group(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_id: int,
    title: str,
    capacity: int,
    repeat: Repeat,
    count: int,
    first_start: datetime,
    zone: str,
    created_by: str,
) -> GroupRow:
    """Write a new group (its occurrences are written apart)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO groups (service_id, consultant_id, title, capacity, repeat, count,
                            first_start, zone, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_GROUP_COLUMNS}
        """,
        service_id,
        consultant_id,
        title,
        capacity,
        repeat,
        count,
        first_start,
        zone,
        created_by,
    )
    assert row is not None
    return GroupRow(**dict(row))


async def insert_occurrence(
    conn: asyncpg.Connection,
    *,
    group_id: uuid.UUID,
    position: int,
    consultant_id: int,
    start: datetime,
    end: datetime,
    blocked_start: datetime,
    blocked_end: datetime,
    capacity: int,
    video_link: str | None,
) -> None:
    """Write one occurrence; its trigger holds the counselor's time (Overlap if held)."""
    try:
        await conn.execute(
            """
            INSERT INTO group_occurrences (group_id, position, consultant_id, period, blocked,
                                           capacity, video_link)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            group_id,
            position,
            consultant_id,
            Range(start, end, lower_inc=True, upper_inc=False),
            Range(blocked_start, blocked_end, lower_inc=True, upper_inc=False),
            capacity,
            video_link,
        )
    except asyncpg.ExclusionViolationError:
        raise Overlap from None


async def holds_overlapping(
    conn: asyncpg.Connection, consultant_id: int, start: datetime, end: datetime
) -> list[Hold]:
    """The consultant's held times that overlap [start, end)."""
    rows = await conn.fetch(
        """
        SELECT lower(blocked) AS start, upper(blocked) AS "end", booking_id IS NOT NULL AS booking
        FROM consultant_holds
        WHERE consultant_id = $1 AND blocked && tstzrange($2, $3, '[)')
        ORDER BY lower(blocked)
        """,
        consultant_id,
        start,
        end,
    )
    return [Hold(**dict(r)) for r in rows]


async def get_group(
    conn: asyncpg.Connection,
    group_id: uuid.UUID,
    *,
    consultant_id: int | None = None,
    lock: bool = False,
) -> GroupRow | None:
    """One group (only that consultant's when consultant_id is given)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_GROUP_COLUMNS} FROM groups
        WHERE id = $1 AND ($2::bigint IS NULL OR consultant_id = $2)
        {"FOR UPDATE" if lock else ""}
        """,
        group_id,
        consultant_id,
    )
    return GroupRow(**dict(row)) if row else None


async def get_groups(conn: asyncpg.Connection, group_ids: Sequence[uuid.UUID]) -> list[GroupRow]:
    """Several groups by id, in no particular order."""
    rows = await conn.fetch(
        f"SELECT {_GROUP_COLUMNS} FROM groups WHERE id = ANY ($1::uuid[])", list(group_ids)
    )
    return [GroupRow(**dict(r)) for r in rows]


async def occurrences_of(
    conn: asyncpg.Connection, group_ids: Sequence[uuid.UUID]
) -> list[OccurrenceRow]:
    """Every occurrence of these groups, by group and position."""
    rows = await conn.fetch(
        f"""
        SELECT {_OCCURRENCE_COLUMNS} FROM group_occurrences o
        WHERE o.group_id = ANY ($1::uuid[])
        ORDER BY o.group_id, o.position
        """,
        list(group_ids),
    )
    return [OccurrenceRow(**dict(r)) for r in rows]


async def get_occurrence(
    conn: asyncpg.Connection, group_id: uuid.UUID, position: int
) -> OccurrenceRow | None:
    """One occurrence of a group by position."""
    row = await conn.fetchrow(
        f"""
        SELECT {_OCCURRENCE_COLUMNS} FROM group_occurrences o
        WHERE o.group_id = $1 AND o.position = $2
        """,
        group_id,
        position,
    )
    return OccurrenceRow(**dict(row)) if row else None


async def seats_of(
    conn: asyncpg.Connection, occurrence_ids: Sequence[uuid.UUID], *, spoke_id: int | None
) -> list[SeatRow]:
    """Seats held in these occurrences (only that clinic's when spoke_id is given)."""
    rows = await conn.fetch(
        """
        SELECT id, occurrence_id, enrolment_id, spoke_id, patient_id, seat_no, attendance
        FROM group_seats
        WHERE occurrence_id = ANY ($1::uuid[]) AND attendance <> 'released'
          AND ($2::bigint IS NULL OR spoke_id = $2)
        ORDER BY occurrence_id, seat_no
        """,
        list(occurrence_ids),
        spoke_id,
    )
    return [SeatRow(**dict(r)) for r in rows]


async def open_group_ids(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    start: datetime,
    end: datetime,
    patient_state: str,
) -> list[uuid.UUID]:
    """Groups of the service with a scheduled occurrence starting in [start, end) that has a
    free seat, whose counselor is active and licensed in the patient's state; soonest first."""
    rows = await conn.fetch(
        """
        SELECT o.group_id, min(lower(o.period)) AS soonest
        FROM group_occurrences o
        JOIN groups g ON g.id = o.group_id
        JOIN consultants c ON c.id = g.consultant_id
        WHERE g.service_id = $1 AND o.status = 'scheduled'
          AND lower(o.period) >= $2 AND lower(o.period) < $3
          AND c.active AND $4 = ANY (c.licensed_states)
          AND (SELECT count(*) FROM group_seats s
               WHERE s.occurrence_id = o.id AND s.attendance <> 'released') < o.capacity
        GROUP BY o.group_id
        ORDER BY soonest, o.group_id
        """,
        service_id,
        start,
        end,
        patient_state,
    )
    return [r["group_id"] for r in rows]


async def cancel_occurrences(
    conn: asyncpg.Connection,
    group_id: uuid.UUID,
    from_position: int,
    *,
    reason: str,
    now: datetime,
) -> list[uuid.UUID]:
    """Cancel the scheduled occurrences from a position on and release their seats; the
    trigger frees the counselor's time. Returns the occurrences cancelled."""
    rows = await conn.fetch(
        """
        UPDATE group_occurrences
        SET status = 'cancelled', cancelled_at = $3, cancel_reason = $4
        WHERE group_id = $1 AND position >= $2 AND status = 'scheduled'
        RETURNING id
        """,
        group_id,
        from_position,
        now,
        reason,
    )
    ids = [r["id"] for r in rows]
    await conn.execute(
        """
        UPDATE group_seats SET attendance = 'released'
        WHERE occurrence_id = ANY ($1::uuid[]) AND attendance <> 'released'
        """,
        ids,
    )
    return ids
