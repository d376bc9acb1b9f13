"""After the load: no two active bookings of one consultant overlap, and no booking is phantom."""

from __future__ import annotations

from typing import Any

import asyncpg

# Plain equality and range overlap, not the exclusion constraint's own index machinery.
OVERLAPS = """
SELECT count(*) FILTER (WHERE a.period && b.period) AS periods,
       count(*) AS blocked
FROM bookings a
JOIN bookings b ON b.consultant_id = a.consultant_id AND a.id < b.id
WHERE a.status <> 'cancelled' AND b.status <> 'cancelled' AND a.blocked && b.blocked
"""


async def overlaps(database_url: str) -> dict[str, int]:
    """Pairs of active bookings of one consultant that overlap (periods; buffered times)."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(OVERLAPS)
        assert row is not None
        active = await conn.fetchval("SELECT count(*) FROM bookings WHERE status <> 'cancelled'")
    finally:
        await conn.close()
    return {"active": active, "periods": row["periods"], "with_buffers": row["blocked"]}


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
    """The overlap counts after each booking phase and now; API-made rows vs 201 answers."""
    counts = {**phases, "end": await overlaps(database_url)}
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
