"""SQL for a group's seats, enrolments and waitlist (migration 017).

Seat numbers run 1..capacity and are unique per occurrence while held (index group_seats_held):
PostgreSQL itself makes a seat beyond capacity impossible. Writers serialize the seat moves of
one group by locking the group's row first (`lock_group`).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from scheduling.group_seats_schemas import Attendance, WaitStatus
from scheduling.one_statement import KEPT_COLUMNS, Keep, Kept, Tail, kept_in, kept_join, key_args
from telehub.audit import Trail


@dataclass(frozen=True, slots=True)
class GroupRow:
    """What seats need to know of a group."""

    id: uuid.UUID
    title: str
    consultant_id: int
    capacity: int


@dataclass(frozen=True, slots=True)
class OccurrenceRow:
    """One occurrence of a group, with the lowest seat number free in it (None: full)."""

    id: uuid.UUID
    position: int
    start: datetime
    end: datetime
    status: str
    capacity: int
    free_seat: int | None


@dataclass(frozen=True, slots=True)
class EnrolmentRow:
    """A patient's place in a group from one occurrence on."""

    id: uuid.UUID
    group_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    from_position: int
    withdrawn_from: int | None
    created_at: datetime


@dataclass(frozen=True, slots=True)
class SeatRow:
    """A patient's seat in one occurrence."""

    enrolment_id: uuid.UUID
    position: int
    start: datetime
    end: datetime
    seat_no: int
    attendance: Attendance


@dataclass(frozen=True, slots=True)
class WaitRow:
    """A place on a group's waitlist; `place` counts from 1 while waiting."""

    id: uuid.UUID
    group_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    status: WaitStatus
    enrolment_id: uuid.UUID | None
    created_at: datetime
    place: int | None


@dataclass(frozen=True, slots=True)
class Assigned:
    """A waiting patient who was given a freed seat."""

    waitlist_id: uuid.UUID
    enrolment_id: uuid.UUID
    group_id: uuid.UUID
    title: str
    patient_id: uuid.UUID
    from_position: int
    occurrence_start: datetime
    assigned_at: datetime


async def lock_group(conn: asyncpg.Connection, group_id: uuid.UUID) -> GroupRow | None:
    """The group, its row locked until commit: every seat move of it queues here."""
    row = await conn.fetchrow(
        "SELECT id, title, consultant_id, capacity FROM groups WHERE id = $1 FOR UPDATE",
        group_id,
    )
    return GroupRow(**dict(row)) if row else None


def lock_group_sql(group_id: uuid.UUID) -> str:
    """lock_group as SQL text, for the statement that opens a transaction: the id is inlined
    as rebuilt here from its 128-bit integer, never as the caller's string."""
    return f"SELECT 1 FROM groups WHERE id = '{uuid.UUID(int=group_id.int)}'::uuid FOR UPDATE"


async def get_group(conn: asyncpg.Connection, group_id: uuid.UUID) -> GroupRow | None:
    """The group, unlocked (for reads)."""
    row = await conn.fetchrow(
        "SELECT id, title, consultant_id, capacity FROM groups WHERE id = $1", group_id
    )
    return GroupRow(**dict(row)) if row else None


# The lowest seat number free in occurrence o (NULL: full).
_FREE_SEAT = """
    (SELECT min(n) FROM generate_series(1, o.capacity) AS n
     WHERE NOT EXISTS (
         SELECT 1 FROM group_seats s
         WHERE s.occurrence_id = o.id AND s.seat_no = n AND s.attendance <> 'released'))
"""


async def occurrences(conn: asyncpg.Connection, group_id: uuid.UUID) -> list[OccurrenceRow]:
    """Every occurrence of the group by position, with its lowest free seat number."""
    rows = await conn.fetch(
        f"""
        SELECT o.id, o.position, lower(o.period) AS start, upper(o.period) AS "end", o.status,
               o.capacity, {_FREE_SEAT} AS free_seat
        FROM group_occurrences o
        WHERE o.group_id = $1
        ORDER BY o.position
        """,
        group_id,
    )
    return [OccurrenceRow(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class EnrolFacts:
    """Everything an enrolment's checks need, read in one statement (`enrol_facts`)."""

    now: datetime  # the transaction's own timestamp: the enrolment's created_at
    group: GroupRow | None  # None: no such group
    patient_state: str | None  # None: not a patient of this clinic
    licensed_states: tuple[str, ...] | None  # the group's counselor's (None: no counselor)
    occurrences: list[OccurrenceRow]  # by position, each with its lowest free seat
    enrolled: bool  # the patient holds an enrolment in the group not withdrawn
    waiting_id: uuid.UUID | None  # the patient's place on the group's waitlist, while waiting
    kept: Kept  # the Idempotency-Key's kept answer

    @property
    def replay(self) -> bool:
        """Whether the Idempotency-Key already has an answer."""
        return self.kept[0] is not None


async def enrol_facts(
    conn: asyncpg.Connection,
    group_id: uuid.UUID,
    spoke_id: int | None,
    patient_id: uuid.UUID,
    *,
    key: tuple[str, str] | None = None,
) -> EnrolFacts:
    """One statement: the group, the clinic's patient's state (the clinics' view), the
    counselor's licences (the hub's view), the occurrences with their free seats, whether the
    patient is enrolled or waiting, and the kept answer of the (owner, key) claimed before it
    (telehub's function).

    Read with the group's row locked by an earlier statement (lock_group or lock_group_sql):
    its snapshot then sees every seat move of the group committed before the lock was ours.
    """
    row = await conn.fetchrow(
        f"""
        SELECT now() AS now_, g.id, g.title, g.consultant_id, g.capacity,
            p.state AS patient_state_, l.licensed_states AS licensed_states_,
            ARRAY(
                SELECT row(o.id, o.position, lower(o.period), upper(o.period), o.status,
                           o.capacity, {_FREE_SEAT})
                FROM group_occurrences o WHERE o.group_id = $1 ORDER BY o.position
            ) AS occurrences_,
            EXISTS (
                SELECT 1 FROM group_enrolments e
                WHERE e.group_id = $1 AND e.patient_id = $3 AND e.withdrawn_from IS NULL
            ) AS enrolled_,
            (SELECT w.id FROM group_waitlist w
             WHERE w.group_id = $1 AND w.patient_id = $3 AND w.status = 'waiting') AS waiting_,
            {KEPT_COLUMNS}
        FROM (SELECT 1) one
        LEFT JOIN groups g ON g.id = $1
        LEFT JOIN spoke_patient_states p ON p.spoke_id = $2 AND p.patient_id = $3
        LEFT JOIN hub_consultant_licences l ON l.consultant_id = g.consultant_id
        {kept_join(4)}
        """,
        group_id,
        spoke_id,
        patient_id,
        *key_args(key),
    )
    assert row is not None
    found = row["id"] is not None
    licensed = row["licensed_states_"]
    return EnrolFacts(
        now=row["now_"],
        group=(
            GroupRow(row["id"], row["title"], row["consultant_id"], row["capacity"])
            if found
            else None
        ),
        patient_state=row["patient_state_"],
        licensed_states=tuple(licensed) if licensed is not None else None,
        occurrences=[OccurrenceRow(*o) for o in row["occurrences_"]] if found else [],
        enrolled=row["enrolled_"],
        waiting_id=row["waiting_"],
        kept=kept_in(row),
    )


def _seat_columns(
    seats: Sequence[tuple[uuid.UUID, int, int]],
) -> tuple[list[uuid.UUID], list[int], list[int]]:
    """The (occurrence id, seat number, capacity) of each seat as three arrays, for unnest."""
    return [s[0] for s in seats], [s[1] for s in seats], [s[2] for s in seats]


async def write_enrolment(
    conn: asyncpg.Connection,
    enrolment: EnrolmentRow,
    seats: Sequence[tuple[uuid.UUID, int, int]],
    trail: Trail,
    *,
    waiting_id: uuid.UUID | None,
    now: datetime,
    keep: Keep | None = None,
) -> None:
    """One statement: the new enrolment, one seat per (occurrence id, seat number, capacity),
    the patient's waiting place (if any) settled as assigned at `now`, its audit row
    (telehub's audit_write) and, with `keep`, its Idempotency-Key's answer (telehub's
    idempotency_keep). `enrolment` is what the caller built, created in this transaction (its
    created_at is the transaction's now())."""
    tail = Tail(trail, keep, first=12)
    row = await conn.fetchrow(
        f"""
        WITH e AS (
            INSERT INTO group_enrolments (id, group_id, spoke_id, patient_id, from_position,
                                          created_by)
            VALUES ($1, $2, $3, $4, $5, $6)
            RETURNING id, spoke_id, patient_id, created_at
        ), s AS (
            INSERT INTO group_seats (occurrence_id, enrolment_id, spoke_id, patient_id, seat_no,
                                     capacity)
            SELECT t.o, e.id, e.spoke_id, e.patient_id, t.n, t.c
            FROM e, unnest($7::uuid[], $8::int[], $9::int[]) AS t(o, n, c)
            RETURNING 1
        ), w AS (
            UPDATE group_waitlist SET status = 'assigned', enrolment_id = e.id, settled_at = $10
            FROM e WHERE group_waitlist.id = $11 AND group_waitlist.status = 'waiting'
            RETURNING 1
        )
        SELECT e.created_at, (SELECT count(*) FROM s) AS seats_,
            {tail.audit("create", "group_enrolment", "ARRAY[e.id::text]", "e.spoke_id")},
            {tail.kept()}
        FROM e
        """,
        enrolment.id,
        enrolment.group_id,
        enrolment.spoke_id,
        enrolment.patient_id,
        enrolment.from_position,
        trail.actor,
        *_seat_columns(seats),
        now,
        waiting_id,
        *tail.args(),
    )
    assert row is not None and row["seats_"] == len(seats)
    assert row["created_at"] == enrolment.created_at


async def insert_enrolment(
    conn: asyncpg.Connection,
    *,
    group_id: uuid.UUID,
    spoke_id: int,
    patient_id: uuid.UUID,
    from_position: int,
    created_by: str,
) -> EnrolmentRow:
    """A new enrolment (its seats are written by `insert_seats`)."""
    row = await conn.fetchrow(
        """
        INSERT INTO group_enrolments (group_id, spoke_id, patient_id, from_position, created_by)
        VALUES ($1, $2, $3, $4, $5)
        RETURNING id, group_id, spoke_id, patient_id, from_position, withdrawn_from, created_at
        """,
        group_id,
        spoke_id,
        patient_id,
        from_position,
        created_by,
    )
    assert row is not None
    return EnrolmentRow(**dict(row))


async def insert_seats(
    conn: asyncpg.Connection,
    enrolment: EnrolmentRow,
    seats: Sequence[tuple[uuid.UUID, int, int]],
) -> None:
    """One seat per (occurrence id, seat number, capacity) for the enrolment's patient."""
    await conn.execute(
        """
        INSERT INTO group_seats (occurrence_id, enrolment_id, spoke_id, patient_id, seat_no,
                                 capacity)
        SELECT o, $1, $2, $3, n, c FROM unnest($4::uuid[], $5::int[], $6::int[]) AS t(o, n, c)
        """,
        enrolment.id,
        enrolment.spoke_id,
        enrolment.patient_id,
        *_seat_columns(seats),
    )


_ENROLMENT = """
    SELECT id, group_id, spoke_id, patient_id, from_position, withdrawn_from, created_at
    FROM group_enrolments
"""


async def get_enrolment(
    conn: asyncpg.Connection, group_id: uuid.UUID, enrolment_id: uuid.UUID, spoke_id: int | None
) -> EnrolmentRow | None:
    """An enrolment of the group (of one clinic's, unless spoke_id is None)."""
    row = await conn.fetchrow(
        _ENROLMENT + " WHERE id = $1 AND group_id = $2 AND ($3::bigint IS NULL OR spoke_id = $3)",
        enrolment_id,
        group_id,
        spoke_id,
    )
    return EnrolmentRow(**dict(row)) if row else None


async def open_enrolment_of(
    conn: asyncpg.Connection, group_id: uuid.UUID, patient_id: uuid.UUID
) -> EnrolmentRow | None:
    """The patient's enrolment in the group that is not withdrawn, if any."""
    row = await conn.fetchrow(
        _ENROLMENT + " WHERE group_id = $1 AND patient_id = $2 AND withdrawn_from IS NULL",
        group_id,
        patient_id,
    )
    return EnrolmentRow(**dict(row)) if row else None


async def seats_of(conn: asyncpg.Connection, enrolment_ids: Sequence[uuid.UUID]) -> list[SeatRow]:
    """The seats of these enrolments, by position."""
    rows = await conn.fetch(
        """
        SELECT s.enrolment_id, o.position, lower(o.period) AS start, upper(o.period) AS "end",
               s.seat_no, s.attendance
        FROM group_seats s JOIN group_occurrences o ON o.id = s.occurrence_id
        WHERE s.enrolment_id = ANY($1::uuid[])
        ORDER BY s.enrolment_id, o.position
        """,
        list(enrolment_ids),
    )
    return [SeatRow(**dict(r)) for r in rows]


async def withdraw(
    conn: asyncpg.Connection, enrolment_id: uuid.UUID, from_position: int
) -> list[int]:
    """Mark the enrolment withdrawn and release its held seats from `from_position` on;
    return the positions released."""
    await conn.execute(
        "UPDATE group_enrolments SET withdrawn_from = $2 WHERE id = $1",
        enrolment_id,
        from_position,
    )
    rows = await conn.fetch(
        """
        UPDATE group_seats s SET attendance = 'released'
        FROM group_occurrences o
        WHERE o.id = s.occurrence_id AND s.enrolment_id = $1 AND o.position >= $2
          AND s.attendance IN ('expected', 'excused')
        RETURNING o.position
        """,
        enrolment_id,
        from_position,
    )
    return sorted(r["position"] for r in rows)


async def excuse(
    conn: asyncpg.Connection,
    enrolment_id: uuid.UUID,
    position: int,
    *,
    actor: str,
    now: datetime,
) -> bool:
    """Mark the held seat of one occurrence excused; False when there is none expected."""
    done = await conn.fetchval(
        """
        UPDATE group_seats s SET attendance = 'excused', recorded_at = $3, recorded_by = $4
        FROM group_occurrences o
        WHERE o.id = s.occurrence_id AND s.enrolment_id = $1 AND o.position = $2
          AND s.attendance IN ('expected', 'excused')
        RETURNING s.id
        """,
        enrolment_id,
        position,
        now,
        actor,
    )
    return done is not None


_WAIT = """
    SELECT w.id, w.group_id, w.spoke_id, w.patient_id, w.status, w.enrolment_id, w.created_at,
           CASE WHEN w.status = 'waiting' THEN (
               SELECT count(*) FROM group_waitlist x
               WHERE x.group_id = w.group_id AND x.status = 'waiting'
                 AND (x.created_at, x.id) <= (w.created_at, w.id))::int END AS place
    FROM group_waitlist w
"""


async def insert_waiting(
    conn: asyncpg.Connection,
    *,
    group_id: uuid.UUID,
    spoke_id: int,
    patient_id: uuid.UUID,
    created_by: str,
) -> WaitRow:
    """A new place at the end of the group's waitlist."""
    # clock_timestamp, not now(): two joins in one transaction still keep their order.
    new_id = await conn.fetchval(
        """
        INSERT INTO group_waitlist (group_id, spoke_id, patient_id, created_by, created_at)
        VALUES ($1, $2, $3, $4, clock_timestamp())
        RETURNING id
        """,
        group_id,
        spoke_id,
        patient_id,
        created_by,
    )
    found = await get_waiting(conn, group_id, new_id, None)
    assert found is not None
    return found


async def get_waiting(
    conn: asyncpg.Connection, group_id: uuid.UUID, waitlist_id: uuid.UUID, spoke_id: int | None
) -> WaitRow | None:
    """A place on the group's waitlist (of one clinic's, unless spoke_id is None)."""
    row = await conn.fetchrow(
        _WAIT + " WHERE w.id = $1 AND w.group_id = $2 AND ($3::bigint IS NULL OR w.spoke_id = $3)",
        waitlist_id,
        group_id,
        spoke_id,
    )
    return WaitRow(**dict(row)) if row else None


async def waiting_of(
    conn: asyncpg.Connection, group_id: uuid.UUID, patient_id: uuid.UUID
) -> WaitRow | None:
    """The patient's place on the group's waitlist while waiting."""
    row = await conn.fetchrow(
        _WAIT + " WHERE w.group_id = $1 AND w.patient_id = $2 AND w.status = 'waiting'",
        group_id,
        patient_id,
    )
    return WaitRow(**dict(row)) if row else None


async def first_waiting(conn: asyncpg.Connection, group_id: uuid.UUID) -> WaitRow | None:
    """The longest waiting patient of the group (first come, first served)."""
    row = await conn.fetchrow(
        _WAIT + " WHERE w.group_id = $1 AND w.status = 'waiting'"
        " ORDER BY w.created_at, w.id LIMIT 1",
        group_id,
    )
    return WaitRow(**dict(row)) if row else None


async def settle_waiting(
    conn: asyncpg.Connection,
    waitlist_id: uuid.UUID,
    *,
    status: WaitStatus,
    enrolment_id: uuid.UUID | None,
    now: datetime,
) -> None:
    """A waiting place ends: assigned a seat (with its enrolment) or left."""
    await conn.execute(
        """
        UPDATE group_waitlist SET status = $2, enrolment_id = $3, settled_at = $4
        WHERE id = $1 AND status = 'waiting'
        """,
        waitlist_id,
        status,
        enrolment_id,
        now,
    )


async def assigned_since(
    conn: asyncpg.Connection, spoke_id: int, since: datetime
) -> list[Assigned]:
    """A clinic's waiting patients given a freed seat since `since`, newest first."""
    rows = await conn.fetch(
        """
        SELECT w.id AS waitlist_id, w.enrolment_id, w.group_id, g.title, w.patient_id,
               e.from_position, lower(o.period) AS occurrence_start, w.settled_at AS assigned_at
        FROM group_waitlist w
        JOIN groups g ON g.id = w.group_id
        JOIN group_enrolments e ON e.id = w.enrolment_id
        JOIN group_occurrences o ON o.group_id = w.group_id AND o.position = e.from_position
        WHERE w.spoke_id = $1 AND w.status = 'assigned' AND w.settled_at >= $2
        ORDER BY w.settled_at DESC, w.id
        """,
        spoke_id,
        since,
    )
    return [Assigned(**dict(r)) for r in rows]
