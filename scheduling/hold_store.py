"""SQL for slot holds (migration 023). The exclusion constraint on consultant_holds, which the
hold's trigger writes into, is what forbids two claims on one consultant's minutes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import asyncpg
from asyncpg import Range

from scheduling.slots import Period

HoldStatus = Literal["active", "booked", "released", "expired"]

_COLUMNS = """
    id, spoke_id, consultant_id, service_id, patient_id,
    lower(period) AS start, upper(period) AS "end", expires_at, status, booking_id, created_at
"""


class HoldOverlap(Exception):
    """The consultant's time is already held: by a booking, a group or another hold."""


@dataclass(frozen=True, slots=True)
class Hold:
    """A clinic's few-minute claim on an open slot while the booking is completed."""

    id: uuid.UUID
    spoke_id: int
    consultant_id: int
    service_id: int
    patient_id: uuid.UUID | None
    start: datetime
    end: datetime
    expires_at: datetime
    status: HoldStatus
    booking_id: uuid.UUID | None
    created_at: datetime

    def lapsed(self, now: datetime) -> bool:
        """An active hold past its expiry holds nothing any more, whether or not it is ended."""
        return self.status == "active" and self.expires_at <= now

    def status_at(self, now: datetime) -> HoldStatus:
        """The status as the clinic should read it now: a lapsed active hold is expired."""
        return "expired" if self.lapsed(now) else self.status


async def insert_hold(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    consultant_id: int,
    service_id: int,
    patient_id: uuid.UUID | None,
    period: Period,
    blocked: Period,
    expires_at: datetime,
    created_by: str,
    now: datetime,
) -> Hold:
    """Write an active hold (its trigger claims the minutes); HoldOverlap if they are taken."""
    try:
        row = await conn.fetchrow(
            f"""
            INSERT INTO slot_holds (spoke_id, consultant_id, service_id, patient_id, period,
                                    blocked, expires_at, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
            RETURNING {_COLUMNS}
            """,
            spoke_id,
            consultant_id,
            service_id,
            patient_id,
            Range(period.start, period.end),
            Range(blocked.start, blocked.end),
            expires_at,
            created_by,
            now,
        )
    except asyncpg.ExclusionViolationError:
        raise HoldOverlap from None
    assert row is not None
    return Hold(**dict(row))


async def get_hold(
    conn: asyncpg.Connection,
    hold_id: uuid.UUID,
    *,
    spoke_id: int | None,
    consultant_id: int | None = None,
    lock: bool = False,
) -> Hold | None:
    """One hold, if the caller may see it (its clinic, its consultant, or the hub: both None)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM slot_holds
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
          AND ($3::bigint IS NULL OR consultant_id = $3)
        {"FOR UPDATE" if lock else ""}
        """,
        hold_id,
        spoke_id,
        consultant_id,
    )
    return Hold(**dict(row)) if row else None


async def end_hold(
    conn: asyncpg.Connection,
    hold_id: uuid.UUID,
    status: Literal["booked", "released", "expired"],
    *,
    now: datetime,
    booking_id: uuid.UUID | None = None,
) -> Hold:
    """End an active hold (its trigger frees the minutes); booked names the booking it became."""
    row = await conn.fetchrow(
        f"""
        UPDATE slot_holds SET status = $2, booking_id = $3, ended_at = $4
        WHERE id = $1 AND status = 'active'
        RETURNING {_COLUMNS}
        """,
        hold_id,
        status,
        booking_id,
        now,
    )
    assert row is not None, "end_hold on a hold that is not active"
    return Hold(**dict(row))


async def expire_lapsed(
    conn: asyncpg.Connection, consultant_ids: list[int] | None, *, now: datetime
) -> int:
    """End the lapsed active holds of these consultants (None: of everyone); how many ended."""
    ended = await conn.fetchval(
        "SELECT expire_lapsed_holds($1::bigint[], $2)", consultant_ids, now
    )  # migration 027: the one statement that ends lapsed holds
    return int(ended)


async def active_hold_for(
    conn: asyncpg.Connection, spoke_id: int, consultant_id: int, start: datetime, *, now: datetime
) -> Hold | None:
    """The clinic's own unexpired hold starting at this time with this consultant, if any."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM slot_holds
        WHERE spoke_id = $1 AND consultant_id = $2 AND lower(period) = $3
          AND status = 'active' AND expires_at > $4
        """,
        spoke_id,
        consultant_id,
        start,
        now,
    )
    return Hold(**dict(row)) if row else None
