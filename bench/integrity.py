"""After the load: no two active bookings of one consultant overlap, and no booking is phantom."""

from __future__ import annotations

from typing import Any

import asyncpg

# The bench's own bookings: made through the API (the seed writes `bench:seed`), still active.
MINE = "status <> 'cancelled' AND created_by <> 'bench:seed'"

# Pairs of active bookings of one consultant whose buffered times overlap, at least one of them
# the bench's own: driven from those rows, each new-new pair counted once (b.id > m.id) and
# each new-old pair once (b is the seed's). Plain equality and range overlap decide, not the
# exclusion constraint's gist index: `upper(b.blocked) > lower(m.blocked)` (implied by the
# overlap of two non-empty ranges) lets the partial btree bookings_consultant_time find the
# candidates, so the check costs the run's rows times its consultants' later bookings, not the
# square of the table (at 1,000,000 bookings the whole-table join took more than 7 minutes).
OVERLAPS = f"""
SELECT count(*) FILTER (WHERE m.period && b.period) AS periods,
       count(*) AS blocked
FROM (SELECT id, consultant_id, period, blocked FROM bookings WHERE {MINE}) AS m
JOIN bookings b
  ON b.consultant_id = m.consultant_id AND b.id <> m.id AND b.status <> 'cancelled'
 AND upper(b.blocked) > lower(m.blocked) AND b.blocked && m.blocked
WHERE b.created_by = 'bench:seed' OR b.id > m.id
"""

# Every pair in the table, whoever made it: quadratic in a consultant's bookings, so only for
# a table of the main run's size (integrity.check at its end).
OVERLAPS_ALL = """
SELECT count(*) FILTER (WHERE a.period && b.period) AS periods,
       count(*) AS blocked
FROM bookings a
JOIN bookings b ON b.consultant_id = a.consultant_id AND a.id < b.id
WHERE a.status <> 'cancelled' AND b.status <> 'cancelled' AND a.blocked && b.blocked
"""


async def overlaps(database_url: str, *, whole_table: bool = False) -> dict[str, int]:
    """Pairs of active bookings of one consultant that overlap (periods; buffered times),
    at least one of them made through the API (`whole_table`: any two), with how many
    bookings are active and how many of them the API made."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(OVERLAPS_ALL if whole_table else OVERLAPS)
        assert row is not None
        counts = await conn.fetchrow(
            f"SELECT count(*) AS active, count(*) FILTER (WHERE {MINE}) AS mine "
            "FROM bookings WHERE status <> 'cancelled'"
        )
        assert counts is not None
    finally:
        await conn.close()
    return {
        "active": counts["active"],
        "checked": counts["active"] if whole_table else counts["mine"],
        "periods": row["periods"],
        "with_buffers": row["blocked"],
    }


async def release(database_url: str) -> int:
    """Cancel every booking the load made, so the next run finds the same open slots.

    The rows stay (cancelled), as a real calendar's would; VACUUM keeps the next run's
    table and indexes as lean as a running system's autovacuum would.
    """
    conn = await asyncpg.connect(database_url)
    try:
        done = await conn.execute(
            """
            UPDATE bookings
            SET status = 'cancelled', cancelled_at = now(), cancelled_by = 'bench',
                cancel_reason = 'benchmark reset', sequence = sequence + 1, updated_at = now()
            WHERE created_by <> 'bench:seed' AND status <> 'cancelled'
            """
        )
        await conn.execute("VACUUM (ANALYZE) bookings")
    finally:
        await conn.close()
    return int(done.split()[-1])


async def check(
    database_url: str, answers_201: int, phases: dict[str, dict[str, int]]
) -> dict[str, Any]:
    """The overlap counts after each booking phase and, over the whole table, now; API-made
    rows vs 201 answers."""
    counts = {**phases, "end": await overlaps(database_url, whole_table=True)}
    conn = await asyncpg.connect(database_url)
    try:
        via_api = await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE created_by <> 'bench:seed'"
        )
    finally:
        await conn.close()
    with_buffers = sum(c["with_buffers"] for c in counts.values())
    return {
        "overlapping_pairs": sum(c["periods"] for c in counts.values()),
        "overlapping_pairs_with_buffers": with_buffers,
        "checked_after": counts,
        "bookings_created_via_api": via_api,
        "answers_201": answers_201,
        "ok": with_buffers == 0 and via_api == answers_201,
    }
