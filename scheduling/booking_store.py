"""SQL for bookings. The exclusion constraint in the schema is what forbids overlaps."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, fields
from datetime import datetime, timedelta
from typing import Literal

import asyncpg
from asyncpg import Range

from scheduling.one_statement import KEPT_COLUMNS, Keep, Tail, kept_in, kept_join, key_args
from scheduling.slots import Period
from scheduling.store import BookingFacts, Service, calendar_columns, calendar_in, service_in
from telehub.audit import Trail

BookingStatus = Literal["booked", "cancelled", "completed", "no_show"]

_COLUMNS = """
    id, service_id, consultant_id, spoke_id, patient_id,
    lower(period) AS start, upper(period) AS "end", status, reason, video_link, sequence,
    created_by, created_at, updated_at, cancelled_at, cancel_reason, moved_from,
    series_id, series_position
"""


class Overlap(Exception):
    """The consultant already has an active booking whose blocked time overlaps."""


@contextmanager
def overlap_raised() -> Iterator[None]:
    """Overlap for the exclusion constraint's refusal of a write in the block."""
    try:
        yield
    except asyncpg.ExclusionViolationError:
        raise Overlap from None


@dataclass(frozen=True, slots=True)
class Booking:
    """A consultant's time held for a spoke's patient."""

    id: uuid.UUID
    service_id: int
    consultant_id: int
    spoke_id: int
    patient_id: uuid.UUID
    start: datetime
    end: datetime
    status: BookingStatus
    reason: str
    video_link: str | None
    sequence: int
    created_by: str
    created_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None
    cancel_reason: str | None
    moved_from: datetime | None = None  # the start before the latest move to another time
    series_id: uuid.UUID | None = None  # a session of a course (scheduling/series.py)
    series_position: int | None = None  # 1-based: "session 3 of 12"


@dataclass(frozen=True, slots=True)
class Visibility:
    """Which bookings a caller may see: one spoke's, one consultant's, or (both None) all."""

    spoke_id: int | None = None
    consultant_id: int | None = None


# Advisory locks keyed by two int4 values live in a key space apart from the one-bigint keys
# (the migration lock, Idempotency-Keys): (0x7E1E0B0C, consultant mod 2^31) is "this
# consultant's time is being written" (migration 027, lock_consultants_time). The class value
# only has to differ from other two-key classes; two consultants sharing a key only queue.


async def lock_consultants_time(
    conn: asyncpg.Connection, *consultant_ids: int, now: datetime
) -> None:
    """Queue behind every other transaction writing these consultants' time, until commit;
    then end their lapsed slot holds (as of `now`, the app's clock), freeing those minutes.

    Two inserts that conflict under the exclusion constraint can deadlock each other, and a
    rollback of the row they both wait for deadlocks every waiter (measured: 30-90 s stuck).
    Taken before the check and the write, this lock makes them wait their turn instead; the
    constraint stays the guarantee. Several keys are locked in one order, so that two
    transactions locking the same two consultants cannot deadlock either. One round trip: the
    SQL function of migration 027, which a booking may also call in the round trip that opens
    its transaction (lock_sql).
    """
    await conn.execute(
        "SELECT lock_consultants_time($1::bigint[], $2)", sorted(set(consultant_ids)), now
    )


def lock_sql(consultant_ids: Sequence[int], now: datetime) -> str:
    """lock_consultants_time as SQL text with its values inlined: integers and a timestamp
    made here, never a caller's string, for the statement that opens a transaction."""
    ids = ",".join(str(int(c)) for c in sorted(set(consultant_ids)))
    return f"SELECT lock_consultants_time(ARRAY[{ids}]::bigint[], '{now.isoformat()}'::timestamptz)"


def _range(p: Period) -> Range[datetime]:
    return Range(p.start, p.end)


async def insert_booking(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    consultant_id: int,
    spoke_id: int,
    patient_id: uuid.UUID,
    period: Period,
    blocked: Period,
    reason: str,
    video_link: str | None,
    created_by: str,
    series_id: uuid.UUID | None = None,
    series_position: int | None = None,
    booking_id: uuid.UUID | None = None,
) -> Booking:
    """Write a new booking (with this id, if given); Overlap if the consultant's time is taken."""
    with overlap_raised():
        row = await conn.fetchrow(
            f"""
            INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period,
                                  blocked, reason, video_link, created_by, series_id,
                                  series_position, id)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,
                    COALESCE($12::uuid, gen_random_uuid()))
            RETURNING {_COLUMNS}
            """,
            service_id,
            consultant_id,
            spoke_id,
            patient_id,
            _range(period),
            _range(blocked),
            reason,
            video_link,
            created_by,
            series_id,
            series_position,
            booking_id,
        )
    assert row is not None
    return Booking(**dict(row))


async def write_booking(
    conn: asyncpg.Connection,
    booking: Booking,
    blocked: Period,
    trail: Trail,
    *,
    keep: Keep | None = None,
) -> None:
    """One statement: the new booking, its audit row (telehub's audit_write) and, with
    `keep`, its Idempotency-Key's answer (telehub's idempotency_keep); Overlap if the
    consultant's time is taken. `booking` is what the caller built, created in this
    transaction (its created_at is the transaction's now())."""
    tail = Tail(trail, keep, first=11)
    with overlap_raised():
        row = await conn.fetchrow(
            f"""
            WITH b AS (
                INSERT INTO bookings (id, service_id, consultant_id, spoke_id, patient_id,
                                      period, blocked, reason, video_link, created_by)
                VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
                RETURNING id, spoke_id, created_at
            )
            SELECT b.created_at,
                {tail.audit("create", "booking", "ARRAY[b.id::text]", "b.spoke_id")},
                {tail.kept()}
            FROM b
            """,
            booking.id,
            booking.service_id,
            booking.consultant_id,
            booking.spoke_id,
            booking.patient_id,
            Range(booking.start, booking.end),
            _range(blocked),
            booking.reason,
            booking.video_link,
            booking.created_by,
            *tail.args(),
        )
    assert row is not None and row["created_at"] == booking.created_at


async def get_booking(
    conn: asyncpg.Connection, booking_id: uuid.UUID, seen_by: Visibility, *, lock: bool = False
) -> Booking | None:
    """One booking, if the caller may see it."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM bookings
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
          AND ($3::bigint IS NULL OR consultant_id = $3)
        {"FOR UPDATE" if lock else ""}
        """,
        booking_id,
        seen_by.spoke_id,
        seen_by.consultant_id,
    )
    return Booking(**dict(row)) if row else None


async def list_bookings(
    conn: asyncpg.Connection,
    seen_by: Visibility,
    *,
    start: datetime | None,
    end: datetime | None,
    status: str | None,
    patient_id: uuid.UUID | None,
    consultant_id: int | None,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
    service_id: int | None = None,
) -> list[Booking]:
    """Bookings the caller may see, by start time, keyset-paginated."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM bookings
        WHERE ($1::bigint IS NULL OR spoke_id = $1)
          AND ($2::bigint IS NULL OR consultant_id = $2)
          AND ($3::timestamptz IS NULL OR upper(period) > $3)
          AND ($4::timestamptz IS NULL OR lower(period) < $4)
          AND ($5::text IS NULL OR status = $5)
          AND ($6::uuid IS NULL OR patient_id = $6)
          AND ($7::bigint IS NULL OR consultant_id = $7)
          AND ($8::timestamptz IS NULL OR (lower(period), id) > ($8, $9::uuid))
          AND ($11::bigint IS NULL OR service_id = $11)
        ORDER BY lower(period), id
        LIMIT $10
        """,
        seen_by.spoke_id,
        seen_by.consultant_id,
        start,
        end,
        status,
        patient_id,
        consultant_id,
        after[0] if after else None,
        after[1] if after else None,
        limit,
        service_id,
    )
    return [Booking(**dict(r)) for r in rows]


async def set_outcome(
    conn: asyncpg.Connection, booking_id: uuid.UUID, outcome: BookingStatus
) -> Booking:
    """Record how a session went: completed or no-show."""
    row = await conn.fetchrow(
        f"""
        UPDATE bookings SET status = $2, updated_at = now(), sequence = sequence + 1
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        booking_id,
        outcome,
    )
    assert row is not None
    return Booking(**dict(row))


async def cancel_booking(
    conn: asyncpg.Connection, booking_id: uuid.UUID, *, by: str, reason: str
) -> Booking:
    """Mark a booking cancelled, keeping the row and why."""
    row = await conn.fetchrow(
        f"""
        UPDATE bookings
        SET status = 'cancelled', cancelled_at = now(), cancelled_by = $2, cancel_reason = $3,
            sequence = sequence + 1, updated_at = now()
        WHERE id = $1
        RETURNING {_COLUMNS}
        """,
        booking_id,
        by,
        reason,
    )
    assert row is not None
    return Booking(**dict(row))


async def list_series_bookings(
    conn: asyncpg.Connection, series_ids: list[uuid.UUID]
) -> list[Booking]:
    """Every session of these series (cancelled ones too), by series and position."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM bookings
        WHERE series_id = ANY ($1::uuid[])
        ORDER BY series_id, series_position
        """,
        series_ids,
    )
    return [Booking(**dict(r)) for r in rows]


# Rescheduling in four round trips (issue 16): the lock that opens the transaction, one read of
# every fact the move needs, one write of the move, its audit row and the kept answer.

_FIELDS = tuple(f.name for f in fields(Booking))
_SERVICE_FIELDS = tuple(f.name for f in fields(Service))


# move_facts' busy time: all but the booking's own.
_OTHER_THAN_BK = "booking_id IS DISTINCT FROM bk.id"


def move_lock_sql(
    booking_id: uuid.UUID, seen_by: Visibility, target: int | None, now: datetime
) -> str:
    """The booking's row lock, then the time lock of its consultant and the target one
    (lock_consultants_time, in its one order), as SQL text for the statement that opens the
    transaction. The row is locked first, as every writer of a booking does: the consultant
    read under it is the booking's for good, and its FOR UPDATE waits for a move in flight and
    reads the moved row. Its values are inlined: a UUID, integers and a timestamp made here,
    never a caller's string. A booking the caller may not see locks only the target's time."""
    # Rebuilt from its integer: 36 hex digits and dashes, whatever object came in.
    where = [f"id = '{uuid.UUID(int=booking_id.int)}'::uuid"]
    if seen_by.spoke_id is not None:
        where.append(f"spoke_id = {int(seen_by.spoke_id)}")
    if seen_by.consultant_id is not None:
        where.append(f"consultant_id = {int(seen_by.consultant_id)}")
    ids = f"ARRAY(SELECT consultant_id FROM bookings WHERE {' AND '.join(where)} FOR UPDATE)"
    if target is not None:
        ids += f" || ARRAY[{int(target)}]::bigint[]"
    return f"SELECT lock_consultants_time({ids}, '{now.isoformat()}'::timestamptz)"


@dataclass(frozen=True, slots=True)
class MoveFacts:
    """Everything a move's check needs, read in one statement (`move_facts`)."""

    booking: Booking | None  # None: no such booking the caller may see
    facts: BookingFacts  # the booking's service and patient, the target consultant's calendar
    waiting: bool  # some waitlist request may want the time the booking leaves
    blocked: Period | None = None  # the time the booking keeps now, buffers included
    role: str | None = None  # its consultant's (the hub's view)


async def move_facts(
    conn: asyncpg.Connection,
    booking_id: uuid.UUID,
    seen_by: Visibility,
    *,
    target: int | None,
    start: datetime,
    now: datetime,
    key: tuple[str, str] | None = None,
) -> MoveFacts:
    """One statement, run under move_lock_sql's locks: the booking (as the caller may see it),
    its service, its patient's state (the clinics' view), the target consultant's offer (the
    hub's view; the booking's own consultant when `target` is None), rules, exceptions and busy
    time within two days of `start` other than the booking's own (as store.booking_facts), the
    kept answer of the (owner, key) claimed before it (telehub's function), whether any
    waitlist request still open may want the booking's old consultant's time, and that
    consultant's role (the hub's view, migration 029) for the waitlist's tell."""
    around = Range(start - timedelta(days=2), start + timedelta(days=2))
    booking_cols = ", ".join(f'bk."{f}" AS "b_{f}"' for f in _FIELDS)
    service_cols = ", ".join(f"s.{f} AS s_{f}" for f in _SERVICE_FIELDS)
    row = await conn.fetchrow(
        f"""
        WITH bk AS (
            SELECT {_COLUMNS}, COALESCE($4::bigint, consultant_id) AS target_,
                lower(blocked) AS blocked_start_, upper(blocked) AS blocked_end_
            FROM bookings
            WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
              AND ($3::bigint IS NULL OR consultant_id = $3)
        )
        SELECT now() AS now_, bk.id IS NOT NULL AS found_, {booking_cols},
            bk.blocked_start_, bk.blocked_end_,
            {service_cols},
            p.patient_id IS NOT NULL AS patient_found_, p.state AS patient_state_,
            o.consultant_id IS NOT NULL AS offers_,
            {calendar_columns("bk.target_", "$5", "$6", busy_also=_OTHER_THAN_BK)},
            EXISTS (
                SELECT 1 FROM slot_waitlist w
                WHERE w.status <> 'left' AND w.latest_date >= $7
                  AND (w.consultant_id IS NULL OR w.consultant_id = bk.consultant_id)
            ) AS waiting_,
            (SELECT role FROM hub_consultant_roles r WHERE r.consultant_id = bk.consultant_id)
                AS role_,
            {KEPT_COLUMNS}
        FROM (SELECT 1) one
        LEFT JOIN bk ON true
        LEFT JOIN services s ON s.id = bk.service_id
        LEFT JOIN spoke_patient_states p
               ON p.spoke_id = bk.spoke_id AND p.patient_id = bk.patient_id
        LEFT JOIN hub_consultant_offers o
               ON o.consultant_id = bk.target_ AND o.service_id = bk.service_id
        {kept_join(8)}
        """,
        booking_id,
        seen_by.spoke_id,
        seen_by.consultant_id,
        target,
        around,
        now,
        (now - timedelta(days=1)).date(),  # as waitlist.watch: any zone's today is on or after
        *key_args(key),
    )
    assert row is not None
    booking = Booking(**{f: row[f"b_{f}"] for f in _FIELDS}) if row["found_"] else None
    calendar = None
    if booking is not None and row["offers_"]:
        calendar = calendar_in(target or booking.consultant_id, row)
    facts = BookingFacts(
        now=row["now_"],
        service=service_in(row, prefix="s_"),
        patient_found=row["patient_found_"],
        patient_state=row["patient_state_"],
        calendar=calendar,
        consultant_name=row["consultant_name_"],
        kept=kept_in(row),
    )
    blocked = Period(row["blocked_start_"], row["blocked_end_"]) if booking is not None else None
    return MoveFacts(booking, facts, bool(row["waiting_"]), blocked, row["role_"])


async def write_move(
    conn: asyncpg.Connection,
    moved: Booking,
    blocked: Period,
    trail: Trail,
    *,
    keep: Keep | None = None,
) -> Booking:
    """One statement: the move (the old time is freed only if the new one holds), its audit
    row (telehub's audit_write) and, with `keep`, its Idempotency-Key's answer (telehub's
    idempotency_keep); Overlap if the consultant's time is taken. `moved` is the booking as the
    caller expects it after the move (its updated_at the transaction's now()); the row written
    is returned."""
    tail = Tail(trail, keep, first=5)
    with overlap_raised():
        row = await conn.fetchrow(
            f"""
            WITH m AS (
                UPDATE bookings
                SET consultant_id = $2, period = $3, blocked = $4,
                    moved_from = CASE WHEN lower(period) <> lower($3::tstzrange)
                                      THEN lower(period) ELSE moved_from END,
                    sequence = sequence + 1, updated_at = now()
                WHERE id = $1
                RETURNING {_COLUMNS}
            )
            SELECT m.*,
                {tail.audit("update", "booking", "ARRAY[m.id::text]", "m.spoke_id")} AS audited_,
                {tail.kept()} AS kept_
            FROM m
            """,
            moved.id,
            moved.consultant_id,
            Range(moved.start, moved.end),
            _range(blocked),
            *tail.args(),
        )
    assert row is not None
    return Booking(**{f: row[f] for f in _FIELDS})
