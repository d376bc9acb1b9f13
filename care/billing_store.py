"""The minutes ledger's SQL: counted care management minutes per patient per calendar month."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg


@dataclass(frozen=True, slots=True)
class PatientMinutes:
    """A patient's counted minutes in one month, over the episodes they were counted in."""

    patient_id: uuid.UUID
    episode_ids: tuple[uuid.UUID, ...]
    minutes: int
    first_started_on: date  # the earliest start of those episodes


async def counted_minutes(
    conn: asyncpg.Connection, spoke_id: int, start: date, end: date
) -> list[PatientMinutes]:
    """Per patient of the clinic, the minutes of contacts that count dated in [start, end).

    CMS counts care management time per patient per month, not per episode: a patient in
    both collaborative_care and oud has one ledger, the sum over both episodes."""
    rows = await conn.fetch(
        """
        SELECT e.patient_id,
               array_agg(DISTINCT e.id ORDER BY e.id) AS episode_ids,
               sum(c.minutes)::integer AS minutes,
               min(e.started_on) AS first_started_on
        FROM care_contacts c
        JOIN episodes e ON e.id = c.episode_id AND e.spoke_id = c.spoke_id
        WHERE c.spoke_id = $1 AND c.counts AND c.contact_on >= $2 AND c.contact_on < $3
        GROUP BY e.patient_id
        ORDER BY e.patient_id
        """,
        spoke_id,
        start,
        end,
    )
    return [
        PatientMinutes(
            r["patient_id"], tuple(r["episode_ids"]), r["minutes"], r["first_started_on"]
        )
        for r in rows
    ]
