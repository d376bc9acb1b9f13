"""Moving a booking to another open time: the reschedule, in four round trips through the API.

The booking keeps its old time unless the new one holds; the check and the write are
scheduling/bookings.py's (the same facts, the same exclusion constraint).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg

from scheduling import booking_store as bs
from scheduling import waitlist
from scheduling.booking_store import Booking
from scheduling.bookings import (
    _check_open,
    _invalid,
    _may_change,
    blocked_period,
    refuse_group_service,
    visibility,
)
from scheduling.one_statement import Keep
from scheduling.slots import Period
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, NotFound, SlotTaken
from telehub.idempotency import Answer, Claim


@dataclass(frozen=True, slots=True)
class Move:
    """What a caller asks for when it moves a booking: a new start, and maybe a consultant."""

    booking_id: uuid.UUID
    start: datetime
    consultant_id: int | None = None  # None: the booking's own consultant


def move_first_statements(caller: Caller, move: Move, now: datetime) -> list[str]:
    """What reschedule_at_once needs done in the round trip that opens its transaction: the
    booking's row lock, then its consultant's and the target's time lock (none for a caller
    who may change no booking: refused once the key's kept answer is read)."""
    if caller.spoke_id is None and not caller.is_hub_admin:
        return []
    return [bs.move_lock_sql(move.booking_id, visibility(caller), move.consultant_id, now)]


async def reschedule(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    start: datetime,
    consultant_id: int | None,
    now: datetime,
) -> Booking:
    """Move a booking to another open slot; it keeps its old time unless the new one holds.

    Three round trips in the caller's transaction, as reschedule_at_once's after its first:
    the locks, one read, one write (and the waitlist's, when a request may want the old time).
    """
    _may_change(caller)
    move = Move(booking_id, start, consultant_id or None)
    await conn.execute(
        bs.move_lock_sql(move.booking_id, visibility(caller), move.consultant_id, now)
    )
    found = await _move_facts(conn, caller, move, now=now)
    return await _move(conn, caller, trail, move, found, now=now)


async def reschedule_at_once(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    move: Move,
    claim: Claim | None,
    *,
    now: datetime,
    answer: Callable[[Booking], str],
) -> tuple[Answer, bool]:
    """The API's reschedule, in four round trips, with or without an Idempotency-Key.

    1. `BEGIN`, the key's claim (if any) and move_first_statements (the booking's row lock,
       then the time lock of its consultant and the target's), sent as one;
    2. one read: the booking, the key's kept answer and everything the check needs
       (booking_store.move_facts);
    3. one write: the move, its audit row and the kept answer `answer(moved)`
       (booking_store.write_move);
    4. `COMMIT`.
    When a waitlist request still open may want the time the booking leaves, the waitlist's
    watch (before the write) and tell (after it) add their own round trips. Answers (answer,
    replayed); refusals raise as reschedule() does, and roll everything back.
    """
    key = (claim.owner, claim.key) if claim else None
    found = await _move_facts(conn, caller, move, now=now, key=key)
    if claim is not None and found.facts.replay:
        return claim.replay(*found.facts.kept), True

    def kept(moved: Booking) -> Keep | None:
        if claim is None:
            return None
        return Keep.of(claim, 200, answer(moved))

    moved = await _move(conn, caller, trail, move, found, now=now, keep=kept)
    return Answer(200, answer(moved)), False


async def _move_facts(
    conn: asyncpg.Connection,
    caller: Caller,
    move: Move,
    *,
    now: datetime,
    key: tuple[str, str] | None = None,
) -> bs.MoveFacts:
    return await bs.move_facts(
        conn,
        move.booking_id,
        visibility(caller),
        target=move.consultant_id,
        start=move.start,
        now=now,
        key=key,
    )


async def _move(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    move: Move,
    found: bs.MoveFacts,
    *,
    now: datetime,
    keep: Callable[[Booking], Keep | None] | None = None,
) -> Booking:
    """The checks of a move, in reschedule's order, then its write (and the waitlist's
    watch and tell around it)."""
    _may_change(caller)
    booking = found.booking
    if booking is None:
        raise NotFound("no such booking")
    if booking.status != "booked":
        raise Conflict(f"the booking is {booking.status} and can no longer change")
    facts = found.facts
    service = facts.service
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    refuse_group_service(service)
    assert facts.patient_found  # the schema ties every booking to its spoke's patient
    if facts.calendar is None:
        raise _invalid("consultant_id", "no active consultant with this id offers this service")
    await _check_open(
        conn,
        facts.calendar,
        service,
        move.start,
        now,
        facts.patient_state,
        consultant_name=facts.consultant_name,
    )
    # The time it leaves may be what someone waits for: what is open for them before the write.
    seen = (
        await waitlist.watch(conn, [booking.consultant_id], now, known=[service])
        if found.waiting
        else None
    )
    period = Period(move.start, move.start + timedelta(minutes=service.duration_minutes))
    expected = replace(
        booking,
        consultant_id=move.consultant_id or booking.consultant_id,
        start=period.start,
        end=period.end,
        moved_from=booking.start if booking.start != period.start else booking.moved_from,
        sequence=booking.sequence + 1,
        updated_at=facts.now,
    )
    blocked = blocked_period(service, period)
    try:
        moved = await bs.write_move(
            conn,
            expected,
            blocked,
            trail,
            keep=keep(expected) if keep else None,
        )
    except bs.Overlap:
        raise SlotTaken("another booking holds this consultant at that time") from None
    assert moved == expected, (moved, expected)
    if seen is not None:
        assert found.blocked is not None
        await waitlist.tell_moved(
            conn,
            seen,
            now,
            consultant_id=booking.consultant_id,
            freed=found.blocked,
            taken=blocked if moved.consultant_id == booking.consultant_id else None,
            role=found.role,
        )
    return moved
