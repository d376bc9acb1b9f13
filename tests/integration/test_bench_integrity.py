"""The bench's overlap check (bench/integrity.py) on a table whose exclusion constraints
were dropped, so overlapping rows can exist: it finds every overlapping pair with at least one
booking made through the API, each pair once, and the whole-table check finds the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import asyncpg

from bench import integrity
from tests.factories import Network

T0 = datetime(2027, 3, 1, 9, 0, tzinfo=UTC)


async def _book(
    conn: asyncpg.Connection,
    ids: tuple[int, int, int, object],
    minutes: tuple[int, int],
    *,
    buffer: int = 0,
    by: str = "api",
    cancelled: bool = False,
) -> None:
    service_id, consultant_id, spoke_id, patient_id = ids
    start, end = (T0 + timedelta(minutes=m) for m in minutes)
    await conn.execute(
        """
        INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period, blocked,
                              status, created_by, cancelled_at)
        VALUES ($1, $2, $3, $4, tstzrange($5::timestamptz, $6::timestamptz),
                tstzrange($5 - $7::interval, $6 + $7::interval), $8, $9, $10)
        """,
        service_id,
        consultant_id,
        spoke_id,
        patient_id,
        start,
        end,
        timedelta(minutes=buffer),
        "cancelled" if cancelled else "booked",
        by,
        T0 if cancelled else None,
    )


async def test_overlaps_counts_each_pair_with_a_bench_booking_once(
    network: Network, conn: asyncpg.Connection, database_url: str
) -> None:
    service = await network.service()
    first, second = await network.consultant([service]), await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    one = (service.id, first.id, spoke.id, patient.id)
    other = (service.id, second.id, spoke.id, patient.id)
    await conn.execute("ALTER TABLE consultant_holds DROP CONSTRAINT consultant_holds_no_overlap")
    await _book(conn, one, (0, 60), by="bench:seed")
    await _book(conn, one, (30, 90))  # overlaps the seed's
    await _book(conn, one, (60, 120))  # overlaps the one before, touches the seed's
    await _book(conn, one, (200, 230), buffer=30)  # only its buffer reaches the next
    await _book(conn, one, (250, 280))
    await _book(conn, one, (500, 560), by="bench:seed")  # two seed rows: not the run's
    await _book(conn, one, (530, 590), by="bench:seed")
    await _book(conn, one, (0, 120), cancelled=True)  # cancelled: overlaps nothing
    await _book(conn, other, (30, 90))  # another consultant's

    mine = await integrity.overlaps(database_url)
    everything = await integrity.overlaps(database_url, whole_table=True)

    assert mine == {"active": 8, "checked": 5, "periods": 2, "with_buffers": 3}
    assert everything == {"active": 8, "checked": 8, "periods": 3, "with_buffers": 4}
