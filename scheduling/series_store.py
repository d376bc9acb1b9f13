"""SQL for series; their sessions are bookings (scheduling/booking_store.py)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from asyncpg import Range

from scheduling.booking_store import Booking, Visibility, overlap_raised
from scheduling.one_statement import Keep, Tail
from scheduling.series_schemas import Repeat
from scheduling.slots import Period
from telehub.audit import Trail

_COLUMNS = """
    id, spoke_id, patient_id, service_id, consultant_id, repeat, count, first_start, zone,
    reason, created_by, created_at
"""


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """A course of sessions as stored (its bookings apart)."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    service_id: int
    consultant_id: int
    repeat: Repeat
    count: int
    first_start: datetime
    zone: str
    reason: str
    created_by: str
    created_at: datetime


async def insert_series(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    service_id: int,
    consultant_id: int,
    repeat: Repeat,
    count: int,
    first_start: datetime,
    zone: str,
    reason: str,
    created_by: str,
) -> SeriesRow:
    """Write a new series (its sessions are written as bookings)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO series (spoke_id, patient_id, service_id, consultant_id, repeat, count,
                            first_start, zone, reason, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
        RETURNING {_COLUMNS}
        """,
        spoke_id,
        patient_id,
        service_id,
        consultant_id,
        repeat,
        count,
        first_start,
        zone,
        reason,
        created_by,
    )
    assert row is not None
    return SeriesRow(**dict(row))


async def lock_role_time(
    conn: asyncpg.Connection, *, service_id: int, role: str, now: datetime
) -> list[int]:
    """One statement: the active consultants of `role` offering the service (the hub's views),
    their time locked as booking_store.lock_consultants_time does (migration 027). A series
    for "any consultant of a role" plans among exactly these: its next statement's snapshot
    sees every booking of theirs committed before the lock was ours."""
    row = await conn.fetchrow(
        """
        SELECT c.ids, lock_consultants_time(c.ids, $3) AS expired
        FROM (
            SELECT ARRAY(
                SELECT o.consultant_id FROM hub_consultant_offers o
                JOIN hub_consultant_roles r ON r.consultant_id = o.consultant_id
                WHERE o.service_id = $1 AND r.role = $2
                ORDER BY o.consultant_id
            ) AS ids
        ) c
        """,
        service_id,
        role,
        now,
    )
    assert row is not None
    return list(row["ids"])


async def write_series(
    conn: asyncpg.Connection,
    series: SeriesRow,
    sessions: Sequence[tuple[Booking, Period]],
    trail: Trail,
    *,
    keep: Keep | None = None,
) -> None:
    """One statement: the series, every session (a booking and the time it blocks), their
    audit rows (the sessions', then the series'; telehub's audit_write) and, with `keep`, the
    Idempotency-Key's answer (telehub's idempotency_keep). Overlap if a session's time is
    taken. `series` and `sessions` are what the caller built, created in this transaction
    (their created_at is the transaction's now())."""
    bookings = [b for b, _ in sessions]
    tail = Tail(trail, keep, first=17)
    with overlap_raised():
        row = await conn.fetchrow(
            f"""
            WITH s AS (
                INSERT INTO series (id, spoke_id, patient_id, service_id, consultant_id, repeat,
                                    count, first_start, zone, reason, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
                RETURNING id, spoke_id, created_at
            ), b AS (
                INSERT INTO bookings (id, service_id, consultant_id, spoke_id, patient_id,
                                      period, blocked, reason, video_link, created_by,
                                      series_id, series_position)
                SELECT u.id, $4, $5, s.spoke_id, $3, u.period, u.blocked, $10, u.video_link,
                       $11, s.id, u.position
                FROM s, unnest($12::uuid[], $13::tstzrange[], $14::tstzrange[], $15::text[],
                               $16::integer[]) AS u (id, period, blocked, video_link, position)
                RETURNING 1
            )
            SELECT s.created_at,
                {tail.audit("create", "booking", "$12::uuid[]::text[]", "s.spoke_id")},
                {tail.audit("create", "series", "ARRAY[s.id::text]", "s.spoke_id")},
                {tail.kept()}
            FROM s
            """,
            series.id,
            series.spoke_id,
            series.patient_id,
            series.service_id,
            series.consultant_id,
            series.repeat,
            series.count,
            series.first_start,
            series.zone,
            series.reason,
            series.created_by,
            [b.id for b in bookings],
            [Range(b.start, b.end) for b in bookings],
            [Range(p.start, p.end) for _, p in sessions],
            [b.video_link for b in bookings],
            [b.series_position for b in bookings],
            *tail.args(),
        )
    assert row is not None and row["created_at"] == series.created_at


async def get_series(
    conn: asyncpg.Connection, series_id: uuid.UUID, seen_by: Visibility, *, lock: bool = False
) -> SeriesRow | None:
    """One series, if the caller may see it."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM series
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
          AND ($3::bigint IS NULL OR consultant_id = $3)
        {"FOR UPDATE" if lock else ""}
        """,
        series_id,
        seen_by.spoke_id,
        seen_by.consultant_id,
    )
    return SeriesRow(**dict(row)) if row else None


async def series_of_patient(
    conn: asyncpg.Connection, patient_id: uuid.UUID, seen_by: Visibility
) -> list[SeriesRow]:
    """A patient's series the caller may see, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM series
        WHERE patient_id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
          AND ($3::bigint IS NULL OR consultant_id = $3)
        ORDER BY created_at DESC, id
        """,
        patient_id,
        seen_by.spoke_id,
        seen_by.consultant_id,
    )
    return [SeriesRow(**dict(r)) for r in rows]
