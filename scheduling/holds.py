"""Slot holds: a clinic's few-minute claim on an open slot while a person or a system completes
the booking (issue 15). A hold's minutes sit under the one exclusion constraint that bookings
and groups share (migration 023), so nobody else can book or hold them; it lapses by itself at
`expires_at` with no job: slot search ignores it from then on and every writer of the
consultant's time ends it under the time lock (booking_store.lock_consultants_time).

A hold is booked with bookings.book(..., hold_id=...), which ends it and writes the booking in
one transaction.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import asyncpg

from scheduling import booking_store as bs
from scheduling import hold_store as hs
from scheduling.bookings import (
    _calendar_around,
    _check_open,
    _invalid,
    _service,
    blocked_period,
)
from scheduling.hold_store import Hold
from scheduling.slots import Period
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, Forbidden, NotFound, SlotTaken

__all__ = ["Hold", "NewHold", "get", "hold", "release"]

RECORD = "slot_hold"  # audit record_type


@dataclass(frozen=True, slots=True)
class NewHold:
    """What a clinic asks to hold: one open slot, optionally already for a patient."""

    service_id: int
    consultant_id: int
    start: datetime
    patient_id: uuid.UUID | None = None


async def hold(
    conn: asyncpg.Connection,
    spoke_id: int,
    trail: Trail,
    new: NewHold,
    *,
    now: datetime,
    minutes: float,
) -> Hold:
    """Hold an open slot for the clinic for `minutes`: SlotTaken (409) if booked or held by
    anyone, TimeNotOpen (422 naming start) if it is not an open slot, 422 naming the field
    for an unknown service, consultant or patient."""
    if minutes <= 0:
        raise ValueError("a hold lasts a positive number of minutes")
    patient_state: str | None = None
    if new.patient_id is not None:
        patient = await spokes_store.get_patient(conn, spoke_id, new.patient_id)
        if patient is None:
            raise _invalid("patient_id", "no such patient at this clinic")
        patient_state = patient.state
    service = await _service(conn, new.service_id)
    # From here to commit, other writes of this consultant's time wait their turn; the
    # consultant's lapsed holds are ended first.
    await bs.lock_consultants_time(conn, new.consultant_id, now=now)
    calendar = await _calendar_around(conn, service, new.consultant_id, new.start, None, now=now)
    await _check_open(
        conn,
        calendar,
        service,
        new.start,
        now,
        patient_state,
        check_license=new.patient_id is not None,
    )
    period = Period(new.start, new.start + timedelta(minutes=service.duration_minutes))
    try:
        held = await hs.insert_hold(
            conn,
            spoke_id=spoke_id,
            consultant_id=new.consultant_id,
            service_id=service.id,
            patient_id=new.patient_id,
            period=period,
            blocked=blocked_period(service, period),
            expires_at=now + timedelta(minutes=minutes),
            created_by=trail.actor,
            now=now,
        )
    except hs.HoldOverlap:
        raise SlotTaken("another booking or hold has this consultant at that time") from None
    await audit.record(conn, trail, "create", RECORD, [held.id], spoke_id)
    return held


def _seen_by(caller: Caller) -> tuple[int | None, int | None]:
    """A clinic sees its own holds, a consultant the holds on their time, the hub all."""
    if caller.spoke_id is None and caller.consultant_id is None and not caller.is_hub_admin:
        raise Forbidden("only a clinic, its consultant or the hub may see a hold")
    return caller.spoke_id, caller.consultant_id


async def get(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    hold_id: uuid.UUID,
    *,
    now: datetime | None = None,
) -> Hold:
    """One hold the caller may see (another clinic's answers like a missing one: NotFound).

    Given `now`, a lapsed active hold reads as expired, which it is whether or not a writer
    has ended it yet."""
    spoke_id, consultant_id = _seen_by(caller)
    found = await hs.get_hold(conn, hold_id, spoke_id=spoke_id, consultant_id=consultant_id)
    if found is None:
        raise NotFound("no such hold")
    await audit.record(conn, trail, "read", RECORD, [found.id], found.spoke_id)
    if now is not None and found.lapsed(now):
        return _as_expired(found)
    return found


def _as_expired(found: Hold) -> Hold:
    return replace(found, status="expired")


async def release(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, hold_id: uuid.UUID, *, now: datetime
) -> Hold:
    """The clinic lets its hold go, freeing the slot. Idempotent: a hold already released or
    expired is returned as it is (the slot is not held either way); a booked one is a
    Conflict (cancel the booking instead)."""
    if caller.spoke_id is None:
        raise Forbidden("only the clinic that holds a slot releases it")
    found = await hs.get_hold(conn, hold_id, spoke_id=caller.spoke_id, lock=True)
    if found is None:
        raise NotFound("no such hold")
    if found.status == "booked":
        raise Conflict("the hold was booked: cancel the booking to free the time")
    if found.status != "active":
        return found
    ended = await hs.end_hold(
        conn, found.id, "expired" if found.lapsed(now) else "released", now=now
    )
    await audit.record(conn, trail, "update", RECORD, [ended.id], ended.spoke_id)
    return ended


async def held_by_clinic(
    conn: asyncpg.Connection, spoke_id: int, new: NewHold, *, now: datetime
) -> Hold | None:
    """The clinic's own unexpired hold on this slot, if it has one (a page reloaded)."""
    found = await hs.active_hold_for(conn, spoke_id, new.consultant_id, new.start, now=now)
    return found if found is not None and found.service_id == new.service_id else None
