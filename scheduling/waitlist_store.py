"""SQL for the 1:1 waitlist: a clinic's requests to be told when an earlier time opens."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg import Range

from scheduling.slots import Slot

WaitStatus = Literal["waiting", "told", "left"]

_COLUMNS = """
    w.id, w.spoke_id, w.patient_id, w.service_id, w.consultant_id, w.role, w.patient_state,
    w.latest_date, w.status, w.told_slot, w.told_consultant_id, w.told_at, w.created_by,
    w.created_at, w.settled_at, s.timezone
"""


@dataclass(frozen=True, slots=True)
class WaitRequest:
    """A clinic's request to be told of an earlier time, and the last slot it was told of."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID | None
    service_id: int
    consultant_id: int | None
    role: str | None
    patient_state: str
    latest_date: date
    status: WaitStatus
    told: Slot | None
    told_at: datetime | None
    created_by: str
    created_at: datetime
    settled_at: datetime | None
    zone: ZoneInfo  # the clinic's: latest_date is a day there

    @property
    def open(self) -> bool:
        """Still on the list: waiting, or told and waiting for another time."""
        return self.status != "left"


def _request(row: asyncpg.Record) -> WaitRequest:
    slot: Range[datetime] | None = row["told_slot"]
    told = (
        Slot(row["told_consultant_id"], row["service_id"], slot.lower, slot.upper)
        if slot is not None and slot.lower is not None and slot.upper is not None
        else None
    )
    return WaitRequest(
        id=row["id"],
        spoke_id=row["spoke_id"],
        patient_id=row["patient_id"],
        service_id=row["service_id"],
        consultant_id=row["consultant_id"],
        role=row["role"],
        patient_state=row["patient_state"],
        latest_date=row["latest_date"],
        status=row["status"],
        told=told,
        told_at=row["told_at"],
        created_by=row["created_by"],
        created_at=row["created_at"],
        settled_at=row["settled_at"],
        zone=ZoneInfo(row["timezone"]),
    )


async def insert(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID | None,
    service_id: int,
    consultant_id: int | None,
    role: str | None,
    patient_state: str,
    latest_date: date,
    created_by: str,
) -> WaitRequest:
    """Add a waiting request; its place in line is the moment it was written."""
    row = await conn.fetchrow(
        f"""
        WITH w AS (
            INSERT INTO slot_waitlist (spoke_id, patient_id, service_id, consultant_id, role,
                                       patient_state, latest_date, created_by, created_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, clock_timestamp())
            RETURNING *
        )
        SELECT {_COLUMNS} FROM w JOIN spokes s ON s.id = w.spoke_id
        """,
        spoke_id,
        patient_id,
        service_id,
        consultant_id,
        role,
        patient_state,
        latest_date,
        created_by,
    )
    assert row is not None
    return _request(row)


async def get(
    conn: asyncpg.Connection, request_id: uuid.UUID, spoke_id: int, *, lock: bool = False
) -> WaitRequest | None:
    """One request of the clinic (another clinic's is None)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM slot_waitlist w JOIN spokes s ON s.id = w.spoke_id
        WHERE w.id = $1 AND w.spoke_id = $2
        {"FOR UPDATE OF w" if lock else ""}
        """,
        request_id,
        spoke_id,
    )
    return _request(row) if row else None


async def of_spoke(
    conn: asyncpg.Connection, spoke_id: int, *, include_left: bool, limit: int = 200
) -> list[WaitRequest]:
    """The clinic's requests, oldest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM slot_waitlist w JOIN spokes s ON s.id = w.spoke_id
        WHERE w.spoke_id = $1 AND ($2 OR w.status <> 'left')
        ORDER BY w.created_at, w.id
        LIMIT $3
        """,
        spoke_id,
        include_left,
        limit,
    )
    return [_request(r) for r in rows]


async def leave(conn: asyncpg.Connection, request_id: uuid.UUID, at: datetime) -> WaitRequest:
    """Take a request off the list."""
    row = await conn.fetchrow(
        f"""
        WITH w AS (
            UPDATE slot_waitlist SET status = 'left', settled_at = $2
            WHERE id = $1 RETURNING *
        )
        SELECT {_COLUMNS} FROM w JOIN spokes s ON s.id = w.spoke_id
        """,
        request_id,
        at,
    )
    assert row is not None
    return _request(row)


async def open_for(
    conn: asyncpg.Connection,
    consultant_ids: Sequence[int],
    since: date,
    *,
    lock: bool = False,
) -> list[WaitRequest]:
    """Requests still on the list that a time of these consultants could answer, oldest first.

    A request names one of them, or a role one of them has, or any consultant; the consultant
    must offer its service. With `lock`, the rows stay locked to the caller's commit, so two
    openings at once tell each request once per slot.
    """
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM slot_waitlist w JOIN spokes s ON s.id = w.spoke_id
        WHERE w.status <> 'left' AND w.latest_date >= $2
          AND EXISTS (
              SELECT 1 FROM consultants c
              JOIN consultant_services cs ON cs.consultant_id = c.id
              WHERE c.id = ANY($1::bigint[]) AND c.active AND cs.service_id = w.service_id
                AND (w.consultant_id IS NULL OR w.consultant_id = c.id)
                AND (w.role IS NULL OR w.role = c.role))
        ORDER BY w.created_at, w.id
        {"FOR UPDATE OF w" if lock else ""}
        """,
        list(consultant_ids),
        since,
    )
    return [_request(r) for r in rows]


async def roles_of(conn: asyncpg.Connection, consultant_ids: Sequence[int]) -> dict[int, str]:
    """Each consultant's role."""
    rows = await conn.fetch(
        "SELECT id, role FROM consultants WHERE id = ANY($1::bigint[])", list(consultant_ids)
    )
    return {r["id"]: r["role"] for r in rows}


async def mark_told(
    conn: asyncpg.Connection, request_id: uuid.UUID, slot: Slot, at: datetime
) -> None:
    """Record the slot a request was told of (it stays on the list for other times)."""
    await conn.execute(
        """
        UPDATE slot_waitlist
        SET status = 'told', told_slot = tstzrange($2, $3, '[)'), told_consultant_id = $4,
            told_at = $5
        WHERE id = $1
        """,
        request_id,
        slot.start,
        slot.end,
        slot.consultant_id,
        at,
    )
