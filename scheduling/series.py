"""Courses of sessions (series): planned as a whole, booked all or none.

A series is one service with one consultant for one patient, repeating `weekly` or
`every_2_weeks`, `count` times (at most 26) or up to an `until` date.

Time. Every occurrence keeps the first start's wall-clock time in the CLINIC's time zone:
a series at 10:00 in New York stays at 10:00 after 14 March 2027, when New York moves to
daylight time (its UTC instant moves by an hour). A wall-clock time the clinic's zone skips
that day (02:30 on a spring-forward Sunday) falls an hour later, as zoneinfo reads it. The
consultant's hours do not move with the clinic: each occurrence must still be an open slot
of the service in the consultant's own hours, in the consultant's zone; where the two zones
change on different days (a consultant in Phoenix), an occurrence that leaves those hours is
not open and is reported like any other conflict.

Rules per occurrence, as for single bookings: a time outside what the service offers is a
422, a time another booking holds is a 409. So a first start that is not open for any reason
but another booking (outside hours, too soon, past the horizon, not licensed) is a 422 naming
`first_start`; every other occurrence not open, and a first start another booking holds, is
a 409 `/problems/series-conflict` listing each (position, start, reason in words) with its
nearest open alternatives, and nothing is booked. The client resends with `overrides` for
sessions 2 and later (or another `first_start`). Later occurrences are exempt from the
service's booking horizon only: a course may run past it (26 weekly sessions are half a
year), so only the first start must be within it. Sessions of one series may not overlap.

Any consultant of a role. `role` instead of `consultant_id` resolves to one consultant:
among the active consultants of that role offering the service whose first start is open,
the lowest id with every occurrence open; if none has them all, the one with the fewest not
open (lowest id on a tie) is named in the 409, and the client resends with its consultant_id.

Writes. `book` takes the same consultant lock as a single booking, plans under it and writes
every occurrence through `bookings.write_series` in the caller's transaction: the exclusion
constraint on consultant_holds (migration 031) holds for each, so a race leaves no partial series.

Round trips, whatever the number of sessions: the lock (with `role`, the statement that finds
the role's consultants locks them all), one read of every fact over the course's whole span
(store.span_facts), one write of the series, its sessions, their audit rows and, through the
API, the kept answer (series_store.write_series). POST /api/v1/series takes a named
consultant's lock in the round trip that opens its transaction (book_at_once): four in all;
with `role`, five, as the candidates are known only once read.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from scheduling import booking_store as bs
from scheduling import bookings, store
from scheduling import series_store as ss
from scheduling.booking_store import Booking
from scheduling.one_statement import Keep
from scheduling.series_schemas import (
    MAX_OCCURRENCES,
    ConflictOccurrenceOut,
    Repeat,
    SeriesConflictOut,
    SeriesIn,
)
from scheduling.slots import Closed, ConsultantCalendar, Period, open_slots, why_not_open
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotAnOpenSlot,
    NotFound,
    SeriesConflict,
    ValidationFailed,
)
from telehub.idempotency import Answer, Claim

STEP: dict[Repeat, timedelta] = {"weekly": timedelta(weeks=1), "every_2_weeks": timedelta(weeks=2)}
ALTERNATIVES = 4  # open times offered per occurrence that is not


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


# --- the pure part: when the sessions fall -----------------------------------------------


def occurrence_starts(
    first_start: datetime, zone: ZoneInfo, repeat: Repeat, *, count: int | None, until: date | None
) -> list[datetime]:
    """The starts (UTC) of a series: the first's wall-clock time in `zone`, every step.

    With `until`, every occurrence whose date in `zone` is on or before it; the list may then be
    empty (until before the first) or longer than MAX_OCCURRENCES: the caller refuses both.
    """
    local = first_start.astimezone(zone)
    wall = local.replace(tzinfo=None)
    step = STEP[repeat]
    starts: list[datetime] = []
    for k in range(count if count is not None else MAX_OCCURRENCES + 1):
        at = (wall + k * step).replace(tzinfo=zone)
        if until is not None and at.date() > until:
            break
        starts.append(at.astimezone(UTC))
    return starts


def planned_starts(body: SeriesIn, zone: ZoneInfo) -> list[datetime]:
    """The series' starts with its overrides applied; 422 naming the field when impossible."""
    starts = occurrence_starts(
        body.first_start, zone, body.repeat, count=body.count, until=body.until
    )
    if not starts:
        raise _invalid("until", "is before the first session")
    if len(starts) > MAX_OCCURRENCES:
        raise _invalid(
            "until", f"gives more than {MAX_OCCURRENCES} sessions; choose an earlier date"
        )
    for i, o in enumerate(body.overrides):
        if o.occurrence > len(starts):
            raise _invalid(
                f"overrides.{i}.occurrence", f"the series has only {len(starts)} sessions"
            )
        starts[o.occurrence - 1] = o.start.astimezone(UTC)
    return starts


# --- plans ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One planned session: open, or why not and the nearest open starts instead."""

    position: int  # 1-based
    start: datetime
    end: datetime
    open: bool
    reason: str | None  # words for the clinic when not open
    alternatives: list[datetime]


@dataclass(frozen=True, slots=True)
class SeriesPlan:
    """What booking the series would do now: every occurrence, with one consultant."""

    consultant_id: int
    zone: str  # the clinic's
    occurrences: list[Occurrence]

    @property
    def all_open(self) -> bool:
        """Whether booking it now would book every occurrence."""
        return all(o.open for o in self.occurrences)

    @property
    def not_open(self) -> list[Occurrence]:
        """The occurrences that stand in the way."""
        return [o for o in self.occurrences if not o.open]


class SeriesNotOpen(SeriesConflict):
    """A series with occurrences that are not open; nothing was booked. Carries the plan."""

    def __init__(self, plan: SeriesPlan) -> None:
        listed = ", ".join(str(o.position) for o in plan.not_open)
        body = SeriesConflictOut(
            consultant_id=plan.consultant_id,
            not_open=[
                ConflictOccurrenceOut(
                    position=o.position,
                    start=o.start,
                    end=o.end,
                    reason=o.reason or "",
                    alternatives=o.alternatives,
                )
                for o in plan.not_open
            ],
        )
        super().__init__(
            f"sessions {listed} of the series are not open; nothing was booked. Resend with "
            f"overrides chosen from the alternatives, and consultant_id {plan.consultant_id}",
            **body.model_dump(mode="json"),
        )
        self.plan = plan


@dataclass(frozen=True, slots=True)
class _Context:
    spoke_id: int
    zone: ZoneInfo
    patient_id: uuid.UUID
    patient_state: str | None
    service: store.Service


def _reach(body: SeriesIn) -> Period:
    """A window sure to hold every session whatever the clinic's zone (unknown before the
    read: the sessions' UTC starts without it, two days more of `until`, a day for daylight
    saving), the six days either side that alternatives are sought in, and the day for buffers
    load_calendars keeps. Reading more than the span costs rows, never a wrong answer."""
    until = body.until + timedelta(days=2) if body.until is not None else None
    naive = occurrence_starts(
        body.first_start, ZoneInfo("UTC"), body.repeat, count=body.count, until=until
    )
    instants = [body.first_start, *naive[: MAX_OCCURRENCES + 1], *(o.start for o in body.overrides)]
    margin = timedelta(days=8)
    return Period(min(instants) - margin, max(instants) + margin)


async def _facts(
    conn: asyncpg.Connection,
    spoke_id: int,
    body: SeriesIn,
    consultant_ids: list[int] | None,
    *,
    now: datetime,
    key: tuple[str, str] | None = None,
) -> store.SpanFacts:
    return await store.span_facts(
        conn,
        service_id=body.service_id,
        consultant_ids=consultant_ids,
        role=body.role,
        spoke_id=spoke_id,
        patient_id=body.patient_id,
        window=_reach(body),
        now=now,
        key=key,
    )


def _context(facts: store.SpanFacts, spoke_id: int, body: SeriesIn) -> _Context:
    if not facts.patient_found:
        raise _invalid("patient_id", "no such patient at this clinic")
    service = facts.service
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    bookings.refuse_group_service(service)
    assert facts.spoke_zone is not None  # a caller's clinic exists
    return _Context(
        spoke_id, ZoneInfo(facts.spoke_zone), body.patient_id, facts.patient_state, service
    )


def _plan_with(
    ctx: _Context,
    calendar: ConsultantCalendar,
    name: str,
    starts: list[datetime],
    now: datetime,
) -> SeriesPlan:
    service = ctx.service
    length = timedelta(minutes=service.duration_minutes)
    held: list[Period] = []  # earlier sessions of this series
    occurrences: list[Occurrence] = []
    for position, start in enumerate(starts, 1):
        terms = bookings.series_terms(service, position, start, now)
        mine = replace(calendar, busy=calendar.busy + tuple(held))
        why = why_not_open(mine, terms, start, now, ctx.patient_state)
        words = (
            bookings.closed_words(why, service, name, ctx.patient_state)
            if why is not None
            else None
        )
        occurrences.append(Occurrence(position, start, start + length, why is None, words, []))
        held.append(bookings.blocked_period(service, Period(start, start + length)))
    return SeriesPlan(calendar.consultant_id, ctx.zone.key, occurrences)


def _alternatives(
    ctx: _Context,
    calendar: ConsultantCalendar,
    position: int,
    start: datetime,
    now: datetime,
    starts: list[datetime],
) -> list[datetime]:
    """Open starts near `start`: the same day (clinic's zone) first, then the nearest days."""
    near = timedelta(days=6)  # the rest of the week around it, either side
    terms = bookings.series_terms(ctx.service, position, start + near, now)
    window = Period(start - near, start + near)
    length = timedelta(minutes=ctx.service.duration_minutes)
    others = [
        bookings.blocked_period(ctx.service, Period(s, s + length))
        for p, s in enumerate(starts, 1)
        if p != position
    ]
    found = [
        s.start
        for s in open_slots([calendar], terms, window, now, ctx.patient_state)
        if not any(Period(s.start, s.end).overlaps(o) for o in others)
    ]
    day = start.astimezone(ctx.zone).date()
    found.sort(key=lambda s: (s.astimezone(ctx.zone).date() != day, abs(s - start), s))
    return sorted(found[:ALTERNATIVES])


def _with_alternatives(
    ctx: _Context,
    calendar: ConsultantCalendar,
    chosen: SeriesPlan,
    now: datetime,
) -> SeriesPlan:
    """The plan with the nearest open starts of each occurrence not open (only the chosen
    consultant's plan gets them: they cost a search each)."""
    starts = [o.start for o in chosen.occurrences]
    length = timedelta(minutes=ctx.service.duration_minutes)
    occurrences = []
    for o in chosen.occurrences:
        if not o.open:
            # Earlier sessions of this series are busy for it, as when it was checked.
            held = tuple(
                bookings.blocked_period(ctx.service, Period(s, s + length))
                for s in starts[: o.position - 1]
            )
            mine = replace(calendar, busy=calendar.busy + held)
            nearby = _alternatives(ctx, mine, o.position, o.start, now, starts)
            o = replace(o, alternatives=nearby)
        occurrences.append(o)
    return replace(chosen, occurrences=occurrences)


def _plan(ctx: _Context, facts: store.SpanFacts, body: SeriesIn, now: datetime) -> SeriesPlan:
    """The plan among the candidates the facts were read for (pure: no round trip)."""
    starts = planned_starts(body, ctx.zone)
    calendars = facts.calendars
    if body.consultant_id is not None and not calendars:
        raise _invalid("consultant_id", "no active consultant with this id offers this service")
    if not calendars:
        raise _invalid("role", "no active consultant of this role offers this service")
    best: SeriesPlan | None = None
    first_refused: tuple[int, str] | None = None
    for cid in sorted(calendars):
        calendar = calendars[cid]
        terms = bookings.series_terms(ctx.service, 1, starts[0], now)
        why = why_not_open(calendar, terms, starts[0], now, ctx.patient_state)
        if why is not None and why is not Closed.TAKEN:
            if first_refused is None:
                first_refused = (
                    cid,
                    bookings.closed_words(why, ctx.service, facts.names[cid], ctx.patient_state),
                )
            continue
        plan = _plan_with(ctx, calendar, facts.names[cid], starts, now)
        if plan.all_open:
            return plan
        if best is None or len(plan.not_open) < len(best.not_open):
            best = plan
    if best is not None:
        return _with_alternatives(ctx, calendars[best.consultant_id], best, now)
    assert first_refused is not None
    cid, words = first_refused
    nearby = _alternatives(ctx, calendars[cid], 1, starts[0], now, starts)
    raise NotAnOpenSlot(
        f"first_start: {words}",
        errors=[FieldError("first_start", words)],
        alternatives=[a.isoformat() for a in nearby],
    )


def _candidates(body: SeriesIn) -> list[int] | None:
    """The consultant named, or None: every consultant of the body's role."""
    return None if body.consultant_id is None else [body.consultant_id]


async def plan(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, body: SeriesIn, now: datetime
) -> SeriesPlan:
    """Every occurrence of the series as it would be booked now (no writes).

    422 for what no choice of times can fix (fields, a first start that is not open).
    """
    spoke_id = bookings.spoke_of(caller)
    facts = await _facts(conn, spoke_id, body, _candidates(body), now=now)
    ctx = _context(facts, spoke_id, body)
    await audit.record(conn, trail, "read", "patient", [ctx.patient_id], ctx.spoke_id)
    return _plan(ctx, facts, body, now)


# --- series ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Series:
    """A course of sessions and its bookings, by position."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    service_id: int
    consultant_id: int
    repeat: Repeat
    count: int
    first_start: datetime
    zone: str
    reason: str
    created_at: datetime
    bookings: list[Booking]


def _series(row: ss.SeriesRow, booked: list[Booking]) -> Series:
    return Series(
        id=row.id,
        spoke_id=row.spoke_id,
        patient_id=row.patient_id,
        service_id=row.service_id,
        consultant_id=row.consultant_id,
        repeat=row.repeat,
        count=row.count,
        first_start=row.first_start,
        zone=row.zone,
        reason=row.reason,
        created_at=row.created_at,
        bookings=sorted(booked, key=lambda b: b.series_position or 0),
    )


async def book(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    body: SeriesIn,
    now: datetime,
    *,
    video_url_template: str = "https://video.invalid/{room}",
) -> Series:
    """Book every occurrence, or none: SeriesNotOpen (409) carrying the plan when any is not.

    Three round trips in the caller's transaction: the candidates' time lock, one read, one
    write (see the module's docstring)."""
    if not conn.is_in_transaction():  # the lock and the read's timestamp hold until commit
        async with conn.transaction():
            return await book(conn, caller, trail, body, now, video_url_template=video_url_template)
    spoke_id = bookings.spoke_of(caller)
    # Queue behind every other write of these consultants' time until commit, as one booking
    # does; the read after it decides among exactly the consultants locked.
    locked = await _lock(conn, body, now)
    facts = await _facts(conn, spoke_id, body, locked, now=now)
    return await _book(conn, trail, body, facts, spoke_id, now, video_url_template)


def first_statements(body: SeriesIn, now: datetime) -> list[str]:
    """What book_at_once needs done in the round trip that opens its transaction: a named
    consultant's time lock (a role's consultants are locked by the statement that finds them)."""
    if body.consultant_id is None:
        return []
    return [bs.lock_sql([body.consultant_id], now)]


async def book_at_once(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    body: SeriesIn,
    claim: Claim,
    *,
    now: datetime,
    video_url_template: str,
    answer: Callable[[Series], str],
) -> tuple[Answer, bool]:
    """The API's series, with its Idempotency-Key, in four round trips whatever its length.

    1. `BEGIN`, the key's claim and first_statements (a named consultant's time lock), sent as
       one (telehub.idempotency.idempotent_fused); with `role`, one more: the statement that
       finds the role's consultants and locks their time (series_store.lock_role_time);
    2. one read: the key's kept answer and every fact the plan needs (store.span_facts);
    3. one write: the series, its sessions, their audit rows and the kept answer
       `answer(series)` (series_store.write_series);
    4. `COMMIT`.
    Answers (answer, replayed). Refusals raise as book() does, and roll everything back.
    """
    spoke_id = bookings.spoke_of(caller)
    locked = _candidates(body)
    if locked is None:
        locked = await _lock(conn, body, now)
    facts = await _facts(conn, spoke_id, body, locked, now=now, key=(claim.owner, claim.key))
    if facts.replay:
        return claim.replay(*facts.kept), True
    given: list[str] = []

    def keep(series: Series) -> Keep:
        given.append(answer(series))
        return Keep.of(claim, 201, given[0])

    await _book(conn, trail, body, facts, spoke_id, now, video_url_template, keep=keep)
    return Answer(201, given[0]), False


async def _lock(conn: asyncpg.Connection, body: SeriesIn, now: datetime) -> list[int]:
    """Lock the candidates' time; answer who they are."""
    if body.consultant_id is not None:
        await bs.lock_consultants_time(conn, body.consultant_id, now=now)
        return [body.consultant_id]
    assert body.role is not None  # the model says one of the two
    return await ss.lock_role_time(conn, service_id=body.service_id, role=body.role, now=now)


async def _book(
    conn: asyncpg.Connection,
    trail: Trail,
    body: SeriesIn,
    facts: store.SpanFacts,
    spoke_id: int,
    now: datetime,
    video_url_template: str,
    *,
    keep: Callable[[Series], Keep] | None = None,
) -> Series:
    """Plan from the facts; write the series if every occurrence is open (one statement)."""
    ctx = _context(facts, spoke_id, body)
    planned = _plan(ctx, facts, body, now)
    if not planned.all_open:
        raise SeriesNotOpen(planned)
    row = ss.SeriesRow(
        id=uuid.uuid4(),
        spoke_id=ctx.spoke_id,
        patient_id=ctx.patient_id,
        service_id=ctx.service.id,
        consultant_id=planned.consultant_id,
        repeat=body.repeat,
        count=len(planned.occurrences),
        first_start=planned.occurrences[0].start,
        zone=planned.zone,
        reason=body.reason,
        created_by=trail.actor,
        created_at=facts.now,
    )
    booked = await bookings.write_series(
        conn,
        trail,
        series=row,
        service=ctx.service,
        starts=[o.start for o in planned.occurrences],
        video_url_template=video_url_template,
        keep=(lambda sessions: keep(_series(row, sessions))) if keep else None,
    )
    return _series(row, booked)


def _seen_by(caller: Caller) -> bs.Visibility:
    return bookings.visibility(caller)


async def _read(
    conn: asyncpg.Connection, caller: Caller, series_id: uuid.UUID, *, lock: bool = False
) -> Series:
    row = await ss.get_series(conn, series_id, _seen_by(caller), lock=lock)
    if row is None:
        raise NotFound("no such series")
    return _series(row, await bs.list_series_bookings(conn, [row.id]))


async def _audit_read(conn: asyncpg.Connection, trail: Trail, found: list[Series]) -> None:
    for spoke_id in {s.spoke_id for s in found}:
        mine = [s for s in found if s.spoke_id == spoke_id]
        await audit.record(conn, trail, "read", "series", [s.id for s in mine], spoke_id)
        ids = [b.id for s in mine for b in s.bookings]
        await audit.record(conn, trail, "read", "booking", ids, spoke_id)


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, series_id: uuid.UUID
) -> Series:
    """One series the caller may see (another clinic's answers like a missing one), audited."""
    found = await _read(conn, caller, series_id)
    await _audit_read(conn, trail, [found])
    return found


async def cancel_from(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    series_id: uuid.UUID,
    position: int,
    reason: str,
    now: datetime,
) -> Series:
    """Cancel the session at `position` and every later one still booked; keep earlier ones.

    Each is cancelled as a single booking is (same audit); sessions already cancelled, done
    or missed stay as they are. 409 when nothing from there on is still booked.
    """
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("only the series' clinic or the hub may change it")
    found = await _read(conn, caller, series_id, lock=True)
    if position > found.count:
        raise _invalid("from", f"the series has only {found.count} sessions")
    later = [
        b for b in found.bookings if (b.series_position or 0) >= position and b.status == "booked"
    ]
    if not later:
        raise Conflict(f"no session from {position} on is still booked")
    for b in later:
        await bookings.cancel(conn, caller, trail, b.id, reason=reason, now=now)
    return await _read(conn, caller, series_id)


async def for_patient(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> list[Series]:
    """A patient's series the caller may see, newest first, audited."""
    rows = await ss.series_of_patient(conn, patient_id, _seen_by(caller))
    booked = await bs.list_series_bookings(conn, [r.id for r in rows])
    by_series: dict[uuid.UUID, list[Booking]] = {}
    for b in booked:
        assert b.series_id is not None
        by_series.setdefault(b.series_id, []).append(b)
    found = [_series(r, by_series.get(r.id, [])) for r in rows]
    await _audit_read(conn, trail, found)
    return found
