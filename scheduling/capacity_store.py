"""SQL for the program dashboard: availability to count, booked hours and session outcomes."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg import Range

from scheduling.capacity import WeekOutcomes
from scheduling.slots import ConsultantCalendar, ExtraHours, Period, WeeklyRule


def _frozen(ids: list[int] | None) -> frozenset[int] | None:
    return None if ids is None else frozenset(ids)


async def load_availability(conn: asyncpg.Connection, window: Period) -> list[ConsultantCalendar]:
    """Every active consultant's weekly rules, and the exceptions that touch the window.

    Three queries whatever the number of consultants. Bookings are left out (`busy` is empty):
    capacity is what was offered, and booked time is counted on its own.
    """
    people = await conn.fetch(
        "SELECT id, timezone, licensed_states FROM consultants WHERE active ORDER BY id"
    )
    if not people:
        return []
    ids = [p["id"] for p in people]
    rules: dict[int, list[WeeklyRule]] = defaultdict(list)
    for r in await conn.fetch(
        """
        SELECT consultant_id, weekday, start_time, end_time, service_ids, valid_from, valid_until
        FROM availability_rules
        WHERE consultant_id = ANY ($1::bigint[])
          AND (valid_from IS NULL OR valid_from <= $3::timestamptz::date + 1)
          AND (valid_until IS NULL OR valid_until >= $2::timestamptz::date - 1)
        """,
        ids,
        window.start,
        window.end,
    ):
        rules[r["consultant_id"]].append(
            WeeklyRule(
                r["weekday"],
                r["start_time"],
                r["end_time"],
                _frozen(r["service_ids"]),
                r["valid_from"],
                r["valid_until"],
            )
        )
    time_off: dict[int, list[Period]] = defaultdict(list)
    extra: dict[int, list[ExtraHours]] = defaultdict(list)
    for e in await conn.fetch(
        """
        SELECT consultant_id, kind, lower(period) AS start, upper(period) AS "end", service_ids
        FROM availability_exceptions
        WHERE consultant_id = ANY ($1::bigint[]) AND period && $2::tstzrange
        """,
        ids,
        Range(window.start, window.end),
    ):
        period = Period(e["start"], e["end"])
        if e["kind"] == "time_off":
            time_off[e["consultant_id"]].append(period)
        else:
            extra[e["consultant_id"]].append(ExtraHours(period, _frozen(e["service_ids"])))
    return [
        ConsultantCalendar(
            consultant_id=p["id"],
            zone=ZoneInfo(p["timezone"]),
            rules=tuple(rules[p["id"]]),
            licensed_states=frozenset(p["licensed_states"]),
            extra_hours=tuple(extra[p["id"]]),
            time_off=tuple(time_off[p["id"]]),
        )
        for p in people
    ]


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
