"""SQL for series; their sessions are bookings (scheduling/booking_store.py)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from scheduling.booking_store import Visibility
from scheduling.series_schemas import Repeat

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
