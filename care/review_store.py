"""SQL of the consultant's recommendations from systematic case review."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

_COLUMNS = """
    r.id, r.booking_id, r.episode_id, r.spoke_id, r.consultant_id, r.choice, r.text,
    r.recorded_by, r.recorded_at,
    (SELECT n.id FROM consult_notes n
     WHERE n.recommendation_id = r.id AND n.signed_at IS NOT NULL
     ORDER BY n.version DESC LIMIT 1) AS note_id
"""


class AlreadyRecommended(Exception):
    """The patient has a recommendation from this review already."""


@dataclass(frozen=True, slots=True)
class Recommendation:
    """One patient's recommendation from one case review; `note_id` is its newest signed
    note version (the recommendation as the clinic received it, or its amendment)."""

    id: uuid.UUID
    booking_id: uuid.UUID
    episode_id: uuid.UUID
    spoke_id: int
    consultant_id: int
    choice: str
    text: str
    recorded_by: str
    recorded_at: datetime
    note_id: uuid.UUID | None


async def insert(
    conn: asyncpg.Connection,
    *,
    booking_id: uuid.UUID,
    episode_id: uuid.UUID,
    spoke_id: int,
    consultant_id: int,
    choice: str,
    text: str,
    recorded_by: str,
    recorded_at: datetime,
) -> uuid.UUID:
    """Record a recommendation; AlreadyRecommended for a second one in the same review."""
    try:
        async with conn.transaction():
            new_id: uuid.UUID = await conn.fetchval(
                """
                INSERT INTO recommendations (booking_id, episode_id, spoke_id, consultant_id,
                                             choice, text, recorded_by, recorded_at)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                RETURNING id
                """,
                booking_id,
                episode_id,
                spoke_id,
                consultant_id,
                choice,
                text,
                recorded_by,
                recorded_at,
            )
    except asyncpg.UniqueViolationError:
        raise AlreadyRecommended from None
    return new_id


async def get(conn: asyncpg.Connection, recommendation_id: uuid.UUID) -> Recommendation | None:
    """One recommendation by id."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM recommendations r WHERE r.id = $1", recommendation_id
    )
    return Recommendation(**dict(row)) if row else None


async def of_booking(conn: asyncpg.Connection, booking_id: uuid.UUID) -> list[Recommendation]:
    """The recommendations recorded in one review, in the order they were made."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM recommendations r
        WHERE r.booking_id = $1
        ORDER BY r.recorded_at, r.id
        """,
        booking_id,
    )
    return [Recommendation(**dict(r)) for r in rows]


async def latest_for(
    conn: asyncpg.Connection, episode_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Recommendation]:
    """Each episode's newest recommendation (its last review), for those that have one."""
    rows = await conn.fetch(
        f"""
        SELECT DISTINCT ON (r.episode_id) {_COLUMNS}
        FROM recommendations r
        WHERE r.episode_id = ANY($1::uuid[])
        ORDER BY r.episode_id, r.recorded_at DESC, r.id DESC
        """,
        list(episode_ids),
    )
    return {r["episode_id"]: Recommendation(**dict(r)) for r in rows}
