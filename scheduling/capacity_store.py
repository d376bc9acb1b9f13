"""SQL for the program dashboard: booked hours and session outcomes.

The availability it counts comes from scheduling.store.load_calendars (without bookings).
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from scheduling.capacity import WeekOutcomes
from scheduling.slots import Period


async def booked_hours(conn: asyncpg.Connection, weeks: Sequence[Period]) -> list[float]:
    """Hours of sessions not cancelled in each period (a session across two is split)."""
    rows = await conn.fetch(
        """
        WITH w AS (
            SELECT * FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY
                AS w (lo, hi, i)
        ), b AS (
            SELECT lower(period) AS lo, upper(period) AS hi FROM bookings
            WHERE status IN ('booked', 'completed', 'no_show')
              AND lower(period) < (SELECT max(hi) FROM w)
              AND upper(period) > (SELECT min(lo) FROM w)
        )
        SELECT w.i,
               coalesce(sum(extract(epoch FROM least(b.hi, w.hi) - greatest(b.lo, w.lo)))
                        FILTER (WHERE b.lo IS NOT NULL), 0) / 3600 AS hours
        FROM w LEFT JOIN b ON b.lo < w.hi AND b.hi > w.lo
        GROUP BY w.i ORDER BY w.i
        """,
        [w.start for w in weeks],
        [w.end for w in weeks],
    )
    return [float(r["hours"]) for r in rows]


async def session_outcomes(conn: asyncpg.Connection, weeks: Sequence[Period]) -> list[WeekOutcomes]:
    """Sessions completed and missed (no-show), by the period they began in."""
    rows = await conn.fetch(
        """
        SELECT w.i,
               count(b.id) FILTER (WHERE b.status = 'completed') AS completed,
               count(b.id) FILTER (WHERE b.status = 'no_show') AS no_show
        FROM unnest($1::timestamptz[], $2::timestamptz[]) WITH ORDINALITY AS w (lo, hi, i)
        LEFT JOIN bookings b
          ON b.status IN ('completed', 'no_show')
         AND lower(b.period) >= w.lo AND lower(b.period) < w.hi
        GROUP BY w.i ORDER BY w.i
        """,
        [w.start for w in weeks],
        [w.end for w in weeks],
    )
    return [WeekOutcomes(completed=r["completed"], no_show=r["no_show"]) for r in rows]
