"""SQL for the program measures: turnaround, loop closure, overdue and unacknowledged work,
and notes held for the patient's consent (42 CFR part 2: counted apart, never "unacknowledged":
the clinic cannot acknowledge what it has not been given).

Each query groups per spoke, per consultant and overall at once (GROUPING SETS).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Literal

import asyncpg

Level = Literal["overall", "spoke", "consultant"]
_GROUPS = "GROUPING SETS ((spoke_id), (consultant_id), ())"
_LEVEL = """
    CASE WHEN grouping(spoke_id) = 0 THEN 'spoke'
         WHEN grouping(consultant_id) = 0 THEN 'consultant'
         ELSE 'overall' END AS level,
    coalesce(CASE WHEN grouping(spoke_id) = 0 THEN spoke_id ELSE consultant_id END, 0) AS key
"""


@dataclass(frozen=True, slots=True)
class Measures:
    """The loop's health for one spoke, one consultant, or the whole program."""

    level: Level
    key: int  # spoke or consultant id; 0 overall
    econsults: int = 0
    answered: int = 0
    turnaround_median_hours: float | None = None
    turnaround_p90_hours: float | None = None
    overdue: int = 0
    notes_signed: int = 0
    acknowledged: int = 0
    loop_closure_median_hours: float | None = None
    loop_closure_p90_hours: float | None = None
    unacknowledged: int = 0
    oldest_unacknowledged_at: datetime | None = field(default=None)
    held: int = 0
    oldest_held_at: datetime | None = field(default=None)


async def program_measures(
    conn: asyncpg.Connection, start: datetime, end: datetime, now: datetime
) -> list[Measures]:
    """Turnaround and loop closure of work begun in [start, end); overdue and waiting as of now."""
    turnaround = await conn.fetch(
        f"""
        WITH e AS (
            SELECT e.spoke_id, e.consultant_id, e.submitted_at,
                   (SELECT min(n.signed_at) FROM consult_notes n
                    WHERE n.econsult_id = e.id) AS answered_at
            FROM econsults e
            WHERE e.submitted_at >= $1 AND e.submitted_at < $2 AND e.status <> 'cancelled'
        )
        SELECT {_LEVEL}, count(*) AS econsults, count(answered_at) AS answered,
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM answered_at - submitted_at) / 3600
            ) AS turnaround_median_hours,
            percentile_cont(0.9) WITHIN GROUP (
                ORDER BY extract(epoch FROM answered_at - submitted_at) / 3600
            ) AS turnaround_p90_hours
        FROM e GROUP BY {_GROUPS}
        """,
        start,
        end,
    )
    overdue = await conn.fetch(
        f"""
        SELECT {_LEVEL}, count(*) AS overdue
        FROM econsults WHERE status IN ('submitted', 'assigned') AND due_at < $1
        GROUP BY {_GROUPS}
        """,
        now,
    )
    closure = await conn.fetch(
        f"""
        WITH n AS (
            SELECT n.spoke_id, n.consultant_id, n.signed_at, a.acknowledged_at
            FROM consult_notes n LEFT JOIN note_acknowledgements a ON a.note_id = n.id
            WHERE n.signed_at >= $1 AND n.signed_at < $2
        )
        SELECT {_LEVEL}, count(*) AS notes_signed, count(acknowledged_at) AS acknowledged,
            percentile_cont(0.5) WITHIN GROUP (
                ORDER BY extract(epoch FROM acknowledged_at - signed_at) / 3600
            ) AS loop_closure_median_hours,
            percentile_cont(0.9) WITHIN GROUP (
                ORDER BY extract(epoch FROM acknowledged_at - signed_at) / 3600
            ) AS loop_closure_p90_hours
        FROM n GROUP BY {_GROUPS}
        """,
        start,
        end,
    )
    # A signed, unacknowledged note whose event waits for a consent is held, not unacknowledged.
    waiting = await conn.fetch(
        f"""
        WITH w AS (
            SELECT n.spoke_id, n.consultant_id, n.signed_at,
                   EXISTS (SELECT 1 FROM outbox o
                           WHERE o.note_id = n.id AND o.held_at IS NOT NULL) AS held
            FROM consult_notes n
            WHERE n.signed_at IS NOT NULL
              AND NOT EXISTS (SELECT 1 FROM note_acknowledgements a WHERE a.note_id = n.id)
        )
        SELECT {_LEVEL},
               count(*) FILTER (WHERE NOT held) AS unacknowledged,
               min(signed_at) FILTER (WHERE NOT held) AS oldest_unacknowledged_at,
               count(*) FILTER (WHERE held) AS held,
               min(signed_at) FILTER (WHERE held) AS oldest_held_at
        FROM w GROUP BY {_GROUPS}
        """
    )
    merged: dict[tuple[str, int], Measures] = {("overall", 0): Measures("overall", 0)}
    for rows in (turnaround, overdue, closure, waiting):
        for row in rows:
            values = dict(row)
            level, key = values.pop("level"), values.pop("key")
            if level != "overall" and key == 0:
                continue  # unassigned e-consults: counted overall, not per consultant
            current = merged.get((level, key), Measures(level, key))
            merged[(level, key)] = replace(current, **_hours_rounded(values))
    return sorted(merged.values(), key=lambda m: (m.level, m.key))


def _hours_rounded(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: round(float(v), 2) if k.endswith("_hours") and v is not None else v
        for k, v in values.items()
    }
