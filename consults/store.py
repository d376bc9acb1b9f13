"""SQL for e-consults, their clarification threads and the hub's holidays."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

import asyncpg

EconsultStatus = Literal[
    "submitted", "assigned", "awaiting_clinic", "answered", "closed", "cancelled"
]
OPEN_STATUSES = ("submitted", "assigned", "awaiting_clinic")

_COLUMNS = """
    id, spoke_id, patient_id, service_id, referring_clinician, question, clinical_context,
    urgency, status, consultant_id, booking_id, submitted_at, due_at, paused_at, answered_at,
    closed_at, created_by, visit_booking_id
"""


@dataclass(frozen=True, slots=True)
class Econsult:
    """A clinic's written question to the hub about one patient."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    service_id: int
    referring_clinician: str
    question: str
    clinical_context: dict[str, Any]
    urgency: Literal["routine", "urgent"]
    status: EconsultStatus
    consultant_id: int | None
    booking_id: uuid.UUID | None
    submitted_at: datetime
    due_at: datetime
    paused_at: datetime | None
    answered_at: datetime | None
    closed_at: datetime | None
    created_by: str
    visit_booking_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Message:
    """One message of an e-consult's clarification thread."""

    id: int
    econsult_id: uuid.UUID
    side: Literal["hub", "spoke"]
    author: str
    body: str
    asks_clinic: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Scope:
    """Which e-consults a caller may see: a spoke's, a consultant's, or (both None) all."""

    spoke_id: int | None = None
    consultant_id: int | None = None


async def insert_econsult(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    service_id: int,
    referring_clinician: str,
    question: str,
    clinical_context: dict[str, Any],
    urgency: str,
    submitted_at: datetime,
    due_at: datetime,
    consultant_id: int | None,
    booking_id: uuid.UUID | None,
    created_by: str,
) -> Econsult:
    """Record a new e-consult (assigned already when it comes with a booked review slot)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO econsults (spoke_id, patient_id, service_id, referring_clinician, question,
            clinical_context, urgency, submitted_at, due_at, consultant_id, booking_id,
            status, created_by)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                CASE WHEN $10::bigint IS NULL THEN 'submitted' ELSE 'assigned' END, $12)
        RETURNING {_COLUMNS}
        """,
        spoke_id,
        patient_id,
        service_id,
        referring_clinician,
        question,
        clinical_context,
        urgency,
        submitted_at,
        due_at,
        consultant_id,
        booking_id,
        created_by,
    )
    assert row is not None
    return Econsult(**dict(row))


async def get_econsult(
    conn: asyncpg.Connection, econsult_id: uuid.UUID, scope: Scope, *, lock: bool = False
) -> Econsult | None:
    """One e-consult, if the caller may see it."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM econsults
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
          AND ($3::bigint IS NULL OR consultant_id = $3)
        {"FOR UPDATE" if lock else ""}
        """,
        econsult_id,
        scope.spoke_id,
        scope.consultant_id,
    )
    return Econsult(**dict(row)) if row else None


async def list_econsults(
    conn: asyncpg.Connection,
    scope: Scope,
    *,
    status: str | None,
    overdue_at: datetime | None,
    limit: int,
) -> list[Econsult]:
    """E-consults the caller may see, soonest due first; `overdue_at` keeps open ones past due."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM econsults
        WHERE ($1::bigint IS NULL OR spoke_id = $1)
          AND ($2::bigint IS NULL OR consultant_id = $2)
          AND ($3::text IS NULL OR status = $3)
          AND ($4::timestamptz IS NULL
               OR (status IN ('submitted', 'assigned') AND due_at < $4))
        ORDER BY due_at, id
        LIMIT $5
        """,
        scope.spoke_id,
        scope.consultant_id,
        status,
        overdue_at,
        limit,
    )
    return [Econsult(**dict(r)) for r in rows]


async def least_loaded_consultant(conn: asyncpg.Connection, service_id: int) -> int | None:
    """The active consultant offering the service with the fewest open e-consults."""
    value = await conn.fetchval(
        """
        SELECT c.id
        FROM consultants c JOIN consultant_services cs ON cs.consultant_id = c.id
        WHERE cs.service_id = $1 AND c.active
        ORDER BY (SELECT count(*) FROM econsults e
                  WHERE e.consultant_id = c.id
                    AND e.status IN ('assigned', 'awaiting_clinic')), c.id
        LIMIT 1
        """,
        service_id,
    )
    return int(value) if value is not None else None


async def set_state(
    conn: asyncpg.Connection,
    econsult_id: uuid.UUID,
    *,
    status: EconsultStatus,
    consultant_id: int | None = None,
    due_at: datetime | None = None,
    paused_at: datetime | None = None,
    answered_at: datetime | None = None,
    closed_at: datetime | None = None,
) -> Econsult:
    """Move an e-consult to a new status; None leaves a column as it was, except paused_at."""
    row = await conn.fetchrow(
        f"""
        UPDATE econsults SET
            status = $2,
            consultant_id = coalesce($3, consultant_id),
            due_at = coalesce($4, due_at),
            paused_at = $5,
            answered_at = coalesce($6, answered_at),
            closed_at = coalesce($7, closed_at)
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        econsult_id,
        status,
        consultant_id,
        due_at,
        paused_at,
        answered_at,
        closed_at,
    )
    assert row is not None
    return Econsult(**dict(row))


async def set_visit(
    conn: asyncpg.Connection, econsult_id: uuid.UUID, booking_id: uuid.UUID
) -> None:
    """Remember the video session booked on the e-consult's recommendation."""
    await conn.execute(
        "UPDATE econsults SET visit_booking_id = $2 WHERE id = $1", econsult_id, booking_id
    )


async def insert_message(
    conn: asyncpg.Connection,
    econsult_id: uuid.UUID,
    *,
    side: str,
    author: str,
    body: str,
    asks_clinic: bool,
) -> Message:
    """Add a message to the clarification thread."""
    row = await conn.fetchrow(
        """
        INSERT INTO econsult_messages (econsult_id, side, author, body, asks_clinic)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id, econsult_id, side, author, body, asks_clinic, created_at
        """,
        econsult_id,
        side,
        author,
        body,
        asks_clinic,
    )
    assert row is not None
    return Message(**dict(row))


async def list_messages(conn: asyncpg.Connection, econsult_id: uuid.UUID) -> list[Message]:
    """The thread, oldest first."""
    rows = await conn.fetch(
        """
        SELECT id, econsult_id, side, author, body, asks_clinic, created_at
        FROM econsult_messages WHERE econsult_id = $1 ORDER BY id
        """,
        econsult_id,
    )
    return [Message(**dict(r)) for r in rows]


async def econsults_by_booking(
    conn: asyncpg.Connection, booking_ids: list[uuid.UUID]
) -> dict[uuid.UUID, uuid.UUID]:
    """The e-consult each of these bookings is a review block of."""
    rows = await conn.fetch(
        "SELECT booking_id, id FROM econsults WHERE booking_id = ANY ($1::uuid[])", booking_ids
    )
    return {r["booking_id"]: r["id"] for r in rows}


async def list_holidays(conn: asyncpg.Connection) -> list[tuple[date, str]]:
    """The hub's holidays, by date."""
    rows = await conn.fetch("SELECT day, name FROM hub_holidays ORDER BY day")
    return [(r["day"], r["name"]) for r in rows]


async def replace_holidays(conn: asyncpg.Connection, days: list[tuple[date, str]]) -> None:
    """Replace the hub's holidays as a whole."""
    await conn.execute("DELETE FROM hub_holidays")
    await conn.executemany("INSERT INTO hub_holidays (day, name) VALUES ($1, $2)", days)


async def holidays(conn: asyncpg.Connection) -> frozenset[date]:
    """The local dates the hub is closed."""
    return frozenset(r["day"] for r in await conn.fetch("SELECT day FROM hub_holidays"))
