"""Booking and cancelling: every booking is written through here (a move to another time is
scheduling/moves.py's, with this module's check and the same exclusion constraint)."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

import asyncpg

from hub import store as hub_store
from scheduling import booking_store as bs
from scheduling import hold_store as hs
from scheduling import series_store as ss
from scheduling import store, waitlist
from scheduling.booking_store import Booking, Visibility
from scheduling.one_statement import Keep
from scheduling.slots import (
    Closed,
    ConsultantCalendar,
    Period,
    ServiceTerms,
    Slot,
    open_slots,
    why_not_open,
)
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotAnOpenSlot,
    NotFound,
    SlotTaken,
    ValidationFailed,
)
from telehub.idempotency import Answer, Claim

VIRTUAL_KINDS = frozenset({"video_session", "case_review"})
GROUP_KIND = "group_session"  # seats in a group, never a 1:1 booking


@dataclass(frozen=True, slots=True)
class NewBooking:
    """What a clinic asks for when it books."""

    service_id: int
    consultant_id: int
    patient_id: uuid.UUID
    start: datetime
    reason: str = ""


def reference(booking_id: uuid.UUID) -> str:
    """The short booking reference people read out on the phone."""
    return "TH-" + booking_id.hex[:8].upper()


def visibility(caller: Caller) -> Visibility:
    """Spokes see their own bookings, consultants theirs, the hub all."""
    return Visibility(spoke_id=caller.spoke_id, consultant_id=caller.consultant_id)


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


def blocked_period(service: store.Service, period: Period) -> Period:
    """The time a booking keeps from others: its period widened by the service's buffers."""
    return Period(
        period.start - timedelta(minutes=service.buffer_before_minutes),
        period.end + timedelta(minutes=service.buffer_after_minutes),
    )


async def _calendar_around(
    conn: asyncpg.Connection,
    service: store.Service,
    consultant_id: int,
    start: datetime,
    ignore_booking: uuid.UUID | None,
    *,
    now: datetime,
) -> ConsultantCalendar:
    window = Period(start - timedelta(days=1), start + timedelta(days=1))
    calendars = await store.load_calendars(
        conn, service, window, consultant_id=consultant_id, ignore_booking=ignore_booking, now=now
    )
    if not calendars:
        raise _invalid("consultant_id", "no active consultant with this id offers this service")
    return calendars[0]


# Why a time is not open, in the words the clinic reads: the page that shows the time and the
# write that refuses it say the same. {service}, {consultant}, {notice}, {horizon}, {state}.
CLOSED_WORDS: dict[Closed, str] = {
    Closed.PAST: "It has already passed.",
    Closed.TOO_SOON: "It is too soon: {service} is booked at least {notice} ahead.",
    Closed.PAST_HORIZON: "It is too far ahead: {service} is booked at most {horizon} ahead.",
    Closed.NOT_LICENSED: "{consultant} is not licensed in {state}, where the patient is.",
    Closed.OUTSIDE_HOURS: "It is outside {consultant}'s hours for {service}.",
    Closed.NOT_A_START: "{service} with {consultant} does not start at this time.",
    Closed.TIME_OFF: "{consultant} is on time off then.",
    Closed.TAKEN: "Another booking already holds this time.",
}


def _span_words(minutes: int) -> str:
    if minutes % (24 * 60) == 0:
        days = minutes // (24 * 60)
        return f"{days} day{'s' if days != 1 else ''}"
    if minutes % 60 == 0:
        hours = minutes // 60
        return f"{hours} hour{'s' if hours != 1 else ''}"
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def closed_words(
    reason: Closed, service: store.Service, consultant: str, patient_state: str | None
) -> str:
    """Why a time is not open, as one plain sentence."""
    return CLOSED_WORDS[reason].format(
        service=service.name,
        consultant=consultant,
        notice=_span_words(service.min_notice_minutes),
        horizon=_span_words(service.horizon_days * 24 * 60),
        state=patient_state or "the patient's state",
    )


class TimeNotOpen(NotAnOpenSlot):
    """NotAnOpenSlot that knows why: the reason, and its words for the clinic."""

    def __init__(self, reason: Closed, words: str, detail: str) -> None:
        super().__init__(detail, errors=[FieldError("start", words)])
        self.reason = reason
        self.words = words


async def why_closed(
    conn: asyncpg.Connection,
    service: store.Service,
    consultant_id: int,
    start: datetime,
    *,
    now: datetime,
    patient_state: str | None,
    ignore_booking: uuid.UUID | None = None,
) -> Closed | None:
    """Why a consultant's time is not an open slot of the service now, or None when it is."""
    window = Period(start - timedelta(days=1), start + timedelta(days=1))
    calendars = await store.load_calendars(
        conn, service, window, consultant_id=consultant_id, ignore_booking=ignore_booking, now=now
    )
    if not calendars:  # the consultant does not offer the service (any more)
        return Closed.OUTSIDE_HOURS
    return why_not_open(calendars[0], service.terms, start, now, patient_state)


@dataclass(frozen=True, slots=True)
class Nearest:
    """The open times nearest a closed one: the same consultant's, then other consultants'."""

    same: list[Slot]
    others: list[Slot]


async def nearest_open(
    conn: asyncpg.Connection,
    service: store.Service,
    consultant_id: int,
    start: datetime,
    *,
    now: datetime,
    patient_state: str | None,
    before: int = 2,
    after: int = 3,
    others: int = 3,
) -> Nearest:
    """Open times of the service within a week of `start` (or of the soonest bookable time)."""
    soonest = now + timedelta(minutes=max(service.min_notice_minutes, 0))
    lo = max(soonest, start - timedelta(days=7))
    window = Period(lo, max(start, lo) + timedelta(days=7))
    calendars = await store.load_calendars(conn, service, window, now=now)
    found = open_slots(calendars, service.terms, window, now, patient_state)
    mine = [s for s in found if s.consultant_id == consultant_id]
    earlier = [s for s in mine if s.start < start][-before:] if before else []
    later = [s for s in mine if s.start > start][:after]
    rest = sorted(
        (s for s in found if s.consultant_id != consultant_id),
        key=lambda s: (abs(s.start - start), s.consultant_id),
    )[:others]
    return Nearest(earlier + later, sorted(rest, key=lambda s: (s.start, s.consultant_id)))


async def _check_open(
    conn: asyncpg.Connection,
    calendar: ConsultantCalendar,
    service: store.Service,
    start: datetime,
    now: datetime,
    patient_state: str | None,
    *,
    check_license: bool = True,
    consultant_name: str | None = None,
) -> None:
    """TimeNotOpen (saying why) if the time is not offered; SlotTaken if a booking holds it.

    Without `check_license` (a hold taken before the patient is chosen) the consultant's
    licence in the patient's state is left to the booking, which checks it.
    """
    terms = service.terms if check_license else replace(service.terms, requires_license=False)
    reason = why_not_open(calendar, terms, start, now, patient_state)
    if reason is None:
        return
    if reason is Closed.TAKEN:
        raise SlotTaken("another booking holds this consultant at that time")
    if consultant_name is None:
        consultant = await hub_store.get_consultant(conn, calendar.consultant_id)
        consultant_name = consultant.name if consultant else "The consultant"
    words = closed_words(reason, service, consultant_name, patient_state)
    raise TimeNotOpen(
        reason,
        words,
        f"{start.isoformat()} is not an open {service.name} slot for consultant "
        f"{calendar.consultant_id}: {words} Search GET /api/v1/slots for open times",
    )


def refuse_group_service(service: store.Service) -> None:
    """A group session is joined by enrolling in a group (scheduling/groups.py), never booked
    1:1: 422 naming service_id."""
    if service.kind == GROUP_KIND:
        raise _invalid(
            "service_id", "is a group session: enrol the patient in a group instead of booking it"
        )


async def _service(conn: asyncpg.Connection, service_id: int) -> store.Service:
    service = await store.get_service(conn, service_id)
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    refuse_group_service(service)
    return service


def spoke_of(caller: Caller) -> int:
    """The caller's clinic; only a clinic books (and asks) for its patients."""
    if caller.spoke_id is None:
        raise Forbidden("only a spoke clinic books for its patients")
    return caller.spoke_id


async def book(
    conn: asyncpg.Connection,
    spoke_id: int,
    trail: Trail,
    new: NewBooking,
    *,
    now: datetime,
    video_url_template: str,
    hold_id: uuid.UUID | None = None,
) -> Booking:
    """Book an open slot for one of the clinic's patients: every booking is written here.

    Three round trips in the caller's transaction: the consultant's time lock, one read of
    everything the check needs (store.booking_facts), one write of the booking and its audit
    row (booking_store.write_booking). The API's POST /api/v1/bookings does the same in the
    transaction's own first round trip (book_at_once).

    With `hold_id`, the clinic's own active hold on this very slot (scheduling/holds.py) ends
    as booked and the booking is written in the same transaction; another clinic's hold
    answers like a missing one (NotFound), an ended or lapsed one is a Conflict.
    """
    if not conn.is_in_transaction():  # the lock must last until the write commits
        async with conn.transaction():
            return await book(
                conn,
                spoke_id,
                trail,
                new,
                now=now,
                video_url_template=video_url_template,
                hold_id=hold_id,
            )
    # From here to commit, other writes of this consultant's time wait their turn.
    await bs.lock_consultants_time(conn, new.consultant_id, now=now)
    facts = await _facts(conn, spoke_id, new, now=now, ignore_hold=hold_id)
    booking_id = None
    if hold_id is not None:
        # The clinic's patient and the service are refused before anything of the hold, as
        # they always were; the hold's own minutes are not in the facts' busy time.
        _patient_and_service(facts)
        held = await _claim_hold(conn, spoke_id, hold_id, new, now=now)
        booking_id = uuid.uuid4()
        await hs.end_hold(conn, held.id, "booked", now=now, booking_id=booking_id)
        await audit.record(conn, trail, "update", "slot_hold", [held.id], spoke_id)
    booking, blocked = await _checked(
        conn,
        spoke_id,
        trail,
        new,
        facts,
        now=now,
        video_url_template=video_url_template,
        booking_id=booking_id,
    )
    await _write(conn, booking, blocked, trail)
    return booking


async def _write(
    conn: asyncpg.Connection,
    booking: Booking,
    blocked: Period,
    trail: Trail,
    keep: Keep | None = None,
) -> None:
    """The booking's one write; SlotTaken if the exclusion constraint refuses it (the check
    read every booking committed before the lock, so only a writer that skipped the lock, or
    a check that disagrees with the constraint, gets here)."""
    try:
        await bs.write_booking(conn, booking, blocked, trail, keep=keep)
    except bs.Overlap:
        raise SlotTaken("another booking holds this consultant at that time") from None


def first_statements(new: NewBooking, now: datetime) -> list[str]:
    """What book_at_once needs done in the round trip that opens its transaction."""
    return [bs.lock_sql([new.consultant_id], now)]


async def book_at_once(
    conn: asyncpg.Connection,
    spoke_id: int,
    trail: Trail,
    new: NewBooking,
    claim: Claim,
    *,
    now: datetime,
    video_url_template: str,
    answer: Callable[[Booking], str],
) -> tuple[Answer, bool]:
    """The API's booking, in four round trips with its Idempotency-Key.

    1. `BEGIN`, the key's claim and first_statements (the consultant's time lock), sent as
       one (telehub.idempotency.idempotent_fused);
    2. one read: the key's kept answer and everything the check needs (store.booking_facts);
    3. one write: the booking, its audit row and the kept answer `answer(booking)`
       (booking_store.write_booking);
    4. `COMMIT`.
    Answers (answer, replayed). Refusals raise as book() does, and roll everything back.
    """
    facts = await _facts(conn, spoke_id, new, now=now, key=(claim.owner, claim.key))
    if facts.replay:
        return claim.replay(*facts.kept), True
    booking, blocked = await _checked(
        conn, spoke_id, trail, new, facts, now=now, video_url_template=video_url_template
    )
    body = answer(booking)
    await _write(conn, booking, blocked, trail, Keep.of(claim, 201, body))
    return Answer(201, body), False


async def _facts(
    conn: asyncpg.Connection,
    spoke_id: int,
    new: NewBooking,
    *,
    now: datetime,
    key: tuple[str, str] | None = None,
    ignore_hold: uuid.UUID | None = None,
) -> store.BookingFacts:
    return await store.booking_facts(
        conn,
        service_id=new.service_id,
        consultant_id=new.consultant_id,
        spoke_id=spoke_id,
        patient_id=new.patient_id,
        start=new.start,
        now=now,
        key=key,
        ignore_hold=ignore_hold,
    )


def _patient_and_service(facts: store.BookingFacts) -> store.Service:
    """The service, once the facts hold the clinic's patient and an active 1:1 service;
    otherwise the refusal naming the field."""
    if not facts.patient_found:
        raise _invalid("patient_id", "no such patient at this clinic")
    service = facts.service
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    refuse_group_service(service)
    return service


async def _checked(
    conn: asyncpg.Connection,
    spoke_id: int,
    trail: Trail,
    new: NewBooking,
    facts: store.BookingFacts,
    *,
    now: datetime,
    video_url_template: str,
    booking_id: uuid.UUID | None = None,
) -> tuple[Booking, Period]:
    """The booking to write and the time it blocks, once the facts say the slot is open;
    otherwise the refusal, naming the field."""
    service = _patient_and_service(facts)
    if facts.calendar is None:
        raise _invalid("consultant_id", "no active consultant with this id offers this service")
    await _check_open(
        conn,
        facts.calendar,
        service,
        new.start,
        now,
        facts.patient_state,
        consultant_name=facts.consultant_name,
    )
    return _new_booking(
        service,
        new.start,
        booking_id or uuid.uuid4(),
        consultant_id=new.consultant_id,
        spoke_id=spoke_id,
        patient_id=new.patient_id,
        reason=new.reason,
        created_by=trail.actor,
        created_at=facts.now,
        video_url_template=video_url_template,
    )


def _new_booking(
    service: store.Service,
    start: datetime,
    booking_id: uuid.UUID,
    *,
    consultant_id: int,
    spoke_id: int,
    patient_id: uuid.UUID,
    reason: str,
    created_by: str,
    created_at: datetime,
    video_url_template: str,
    series: tuple[uuid.UUID, int] | None = None,
) -> tuple[Booking, Period]:
    """A booking to write, created in this transaction at `created_at` (as a session of a
    series: its id and the 1-based position), and the time it blocks."""
    period = Period(start, start + timedelta(minutes=service.duration_minutes))
    booking = Booking(
        id=booking_id,
        service_id=service.id,
        consultant_id=consultant_id,
        spoke_id=spoke_id,
        patient_id=patient_id,
        start=period.start,
        end=period.end,
        status="booked",
        reason=reason,
        video_link=(
            video_url_template.format(room=secrets.token_urlsafe(16))
            if service.kind in VIRTUAL_KINDS
            else None
        ),
        sequence=0,
        created_by=created_by,
        created_at=created_at,
        updated_at=created_at,
        cancelled_at=None,
        cancel_reason=None,
        series_id=series[0] if series else None,
        series_position=series[1] if series else None,
    )
    return booking, blocked_period(service, period)


async def _claim_hold(
    conn: asyncpg.Connection, spoke_id: int, hold_id: uuid.UUID, new: NewBooking, *, now: datetime
) -> hs.Hold:
    """The clinic's active hold on exactly this slot, locked; taken under the time lock, so a
    lapsed one has already been ended as expired by lock_consultants_time."""
    held = await hs.get_hold(conn, hold_id, spoke_id=spoke_id, lock=True)
    if held is None:
        raise NotFound("no such hold")
    if held.status_at(now) == "expired":
        raise Conflict("the hold expired: search for open slots and hold another time")
    if held.status != "active":
        raise Conflict(f"the hold is {held.status} and can no longer be booked")
    if held.service_id != new.service_id:
        raise _invalid("service_id", f"does not match the hold's service ({held.service_id})")
    if held.consultant_id != new.consultant_id:
        raise _invalid(
            "consultant_id", f"does not match the hold's consultant ({held.consultant_id})"
        )
    if held.start != new.start:
        raise _invalid("start", f"does not match the hold's start ({held.start.isoformat()})")
    if held.patient_id is not None and held.patient_id != new.patient_id:
        raise _invalid("patient_id", "does not match the patient the hold was taken for")
    return held


def series_terms(
    service: store.Service, position: int, start: datetime, now: datetime
) -> ServiceTerms:
    """The service's terms for one session of a series: after the first, no booking horizon.

    A course is booked as a whole (26 weekly sessions are half a year); the horizon keeps
    single bookings near, so only a series' first start must be within it.
    """
    terms = service.terms
    if position == 1:
        return terms
    return replace(terms, horizon=max(terms.horizon, start - now + timedelta(days=1)))


async def write_series(
    conn: asyncpg.Connection,
    trail: Trail,
    *,
    series: ss.SeriesRow,
    service: store.Service,
    starts: Sequence[datetime],
    video_url_template: str,
    keep: Callable[[list[Booking]], Keep] | None = None,
) -> list[Booking]:
    """Write a series and every session, planned open under lock_consultants_time by the
    caller, in one statement with their audit rows and, with `keep`, the Idempotency-Key's
    answer given the sessions (series_store.write_series).

    The exclusion constraint still holds each one: an overlap (SlotTaken) aborts the caller's
    transaction, and so the whole series.
    """
    refuse_group_service(service)
    sessions = [
        _new_booking(
            service,
            start,
            uuid.uuid4(),
            consultant_id=series.consultant_id,
            spoke_id=series.spoke_id,
            patient_id=series.patient_id,
            reason=series.reason,
            created_by=trail.actor,
            created_at=series.created_at,
            video_url_template=video_url_template,
            series=(series.id, position),
        )
        for position, start in enumerate(starts, 1)
    ]
    written = [b for b, _ in sessions]
    try:
        await ss.write_series(conn, series, sessions, trail, keep=keep(written) if keep else None)
    except bs.Overlap:
        raise SlotTaken("another booking holds this consultant at that time") from None
    return written


async def _booking_for_change(
    conn: asyncpg.Connection, caller: Caller, booking_id: uuid.UUID
) -> Booking:
    _may_change(caller)
    booking = await bs.get_booking(conn, booking_id, visibility(caller), lock=True)
    if booking is None:
        raise NotFound("no such booking")
    if booking.status != "booked":
        raise Conflict(f"the booking is {booking.status} and can no longer change")
    return booking


def _may_change(caller: Caller) -> None:
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("only the booking's clinic or the hub may change it")


async def cancel(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    reason: str,
    now: datetime,
) -> Booking:
    """Cancel a booking, keeping the row and the reason; its time opens again."""
    booking = await _booking_for_change(conn, caller, booking_id)
    seen = await waitlist.watch(conn, [booking.consultant_id], now)
    cancelled = await bs.cancel_booking(conn, booking.id, by=caller.actor, reason=reason)
    await audit.record(conn, trail, "cancel", "booking", [booking.id], booking.spoke_id)
    await waitlist.tell(conn, seen, now)  # waiting requests hear of the time it opened
    return cancelled


async def record_outcome(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    outcome: Literal["completed", "no_show"],
    now: datetime,
) -> Booking:
    """The consultant (or the hub) records whether a session that began took place."""
    if caller.spoke_id is not None:
        raise Forbidden("the hub records how a session went")
    booking = await bs.get_booking(conn, booking_id, visibility(caller), lock=True)
    if booking is None:
        raise NotFound("no such booking")
    if booking.status == "cancelled":
        raise Conflict("the booking was cancelled")
    if booking.start > now:
        raise Conflict("a session's outcome is recorded once it has begun")
    done = await bs.set_outcome(conn, booking.id, outcome)
    await audit.record(conn, trail, "update", "booking", [booking.id], booking.spoke_id)
    return done


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking_id: uuid.UUID
) -> Booking:
    """One booking the caller may see; another spoke's answers exactly like a missing one."""
    booking = await bs.get_booking(conn, booking_id, visibility(caller))
    if booking is None:
        raise NotFound("no such booking")
    await audit.record(conn, trail, "read", "booking", [booking.id], booking.spoke_id)
    return booking


@dataclass(frozen=True, slots=True)
class BookingFilter:
    """Which bookings to list: each field left as None does not filter."""

    start: datetime | None = None
    end: datetime | None = None
    status: str | None = None
    patient_id: uuid.UUID | None = None
    consultant_id: int | None = None
    service_id: int | None = None
    after: tuple[datetime, uuid.UUID] | None = None  # keyset: past this (start, id)
    limit: int = 100


async def find(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, which: BookingFilter
) -> list[Booking]:
    """The caller's bookings matching the filter, by start time, each read audited."""
    found = await bs.list_bookings(
        conn,
        visibility(caller),
        start=which.start,
        end=which.end,
        status=which.status,
        patient_id=which.patient_id,
        consultant_id=which.consultant_id,
        service_id=which.service_id,
        after=which.after,
        limit=which.limit,
    )
    for spoke_id in {b.spoke_id for b in found}:
        ids = [b.id for b in found if b.spoke_id == spoke_id]
        await audit.record(conn, trail, "read", "booking", ids, spoke_id)
    return found
