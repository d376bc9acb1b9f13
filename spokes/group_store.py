"""SQL for what a clinic sees of groups: its OWN patients' places in them, never another's.

Every query here is bounded by the clinic's spoke id; seat counts across clinics come from
`scheduling.groups`, which never names a patient to a clinic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class OwnEnrolment:
    """One of the clinic's patients' place in a group, with the sessions it is excused from."""

    id: uuid.UUID
    group_id: uuid.UUID
    patient_id: uuid.UUID
    from_position: int
    withdrawn_from: int | None
    excused: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class OwnWaiting:
    """One of the clinic's patients waiting for a seat in a full group."""

    id: uuid.UUID
    group_id: uuid.UUID
    patient_id: uuid.UUID
    created_at: datetime


@dataclass(frozen=True, slots=True)
class OwnGroup:
    """A group in which the clinic has patients (enrolled now, or waiting)."""

    group_id: uuid.UUID
    title: str
    consultant_id: int
    enrolled: int
    waiting: int


_ENROLMENTS = """
    SELECT e.id, e.group_id, e.patient_id, e.from_position, e.withdrawn_from,
           coalesce(array_agg(o.position ORDER BY o.position)
                    FILTER (WHERE s.attendance = 'excused'), '{{}}') AS excused
      FROM group_enrolments e
      LEFT JOIN group_seats s ON s.enrolment_id = e.id
      LEFT JOIN group_occurrences o ON o.id = s.occurrence_id
     WHERE e.spoke_id = $1 AND {where}
     GROUP BY e.id
     ORDER BY e.created_at, e.id
"""


def _enrolment(row: asyncpg.Record) -> OwnEnrolment:
    return OwnEnrolment(
        row["id"],
        row["group_id"],
        row["patient_id"],
        row["from_position"],
        row["withdrawn_from"],
        tuple(row["excused"]),
    )


async def enrolments_in(
    conn: asyncpg.Connection, spoke_id: int, group_id: uuid.UUID
) -> list[OwnEnrolment]:
    """The clinic's patients' enrolments in one group, oldest first (withdrawn ones too)."""
    rows = await conn.fetch(_ENROLMENTS.format(where="e.group_id = $2"), spoke_id, group_id)
    return [_enrolment(r) for r in rows]


async def enrolments_of(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID
) -> list[OwnEnrolment]:
    """One of the clinic's patients' enrolments in every group, oldest first."""
    rows = await conn.fetch(_ENROLMENTS.format(where="e.patient_id = $2"), spoke_id, patient_id)
    return [_enrolment(r) for r in rows]


async def waiting_in(
    conn: asyncpg.Connection, spoke_id: int, group_id: uuid.UUID
) -> list[OwnWaiting]:
    """The clinic's patients still waiting for a seat in one group, first come first."""
    rows = await conn.fetch(
        "SELECT id, group_id, patient_id, created_at FROM group_waitlist"
        " WHERE spoke_id = $1 AND group_id = $2 AND status = 'waiting'"
        " ORDER BY created_at, id",
        spoke_id,
        group_id,
    )
    return [OwnWaiting(r["id"], r["group_id"], r["patient_id"], r["created_at"]) for r in rows]


async def waiting_of(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID
) -> list[OwnWaiting]:
    """The groups one of the clinic's patients waits for a seat in, first come first."""
    rows = await conn.fetch(
        "SELECT id, group_id, patient_id, created_at FROM group_waitlist"
        " WHERE spoke_id = $1 AND patient_id = $2 AND status = 'waiting'"
        " ORDER BY created_at, id",
        spoke_id,
        patient_id,
    )
    return [OwnWaiting(r["id"], r["group_id"], r["patient_id"], r["created_at"]) for r in rows]


async def clinic_groups(conn: asyncpg.Connection, spoke_id: int) -> list[OwnGroup]:
    """Groups in which the clinic has patients enrolled or waiting, by title: counts only."""
    rows = await conn.fetch(
        """
        SELECT g.id, g.title, g.consultant_id,
               (SELECT count(*) FROM group_enrolments e
                 WHERE e.group_id = g.id AND e.spoke_id = $1
                   AND e.withdrawn_from IS NULL) AS enrolled,
               (SELECT count(*) FROM group_waitlist w
                 WHERE w.group_id = g.id AND w.spoke_id = $1
                   AND w.status = 'waiting') AS waiting
          FROM groups g
         WHERE EXISTS (SELECT 1 FROM group_enrolments e
                        WHERE e.group_id = g.id AND e.spoke_id = $1
                          AND e.withdrawn_from IS NULL)
            OR EXISTS (SELECT 1 FROM group_waitlist w
                        WHERE w.group_id = g.id AND w.spoke_id = $1 AND w.status = 'waiting')
         ORDER BY g.title, g.id
        """,
        spoke_id,
    )
    return [
        OwnGroup(r["id"], r["title"], r["consultant_id"], r["enrolled"], r["waiting"]) for r in rows
    ]


async def group_service_ids(conn: asyncpg.Connection) -> list[tuple[int, str]]:
    """The active group services (id, name), by name."""
    rows = await conn.fetch(
        "SELECT id, name FROM services WHERE kind = 'group_session' AND active ORDER BY name, id"
    )
    return [(r["id"], r["name"]) for r in rows]
