"""Slot engine: turn consultants' availability into open, bookable slots.

Pure standard-library code: no I/O, no clock. ``now`` is always an argument.

Documented behaviour
--------------------
1. Weekly rules are read in the consultant's own IANA time zone, one LOCAL date at a time, for
   the local dates of the window and one day either side (further back only as item 4 says).
   A rule applies on local date ``d`` when ``rule.weekday == d.weekday()``, ``d`` lies within
   ``valid_from .. valid_until`` (each inclusive, when set) and the rule's ``service_ids`` is
   ``None`` or contains the service. It gives the span from ``d`` at ``rule.start`` to ``d`` at
   ``rule.end`` local wall-clock time (``time(0, 0)`` as an end means the midnight that ends
   ``d``), converted to UTC. So 09:00 stays 09:00 on the local clock across daylight-saving
   changes, and the UTC instant moves by an hour instead.
2. Daylight-saving edge cases follow PEP 495 with ``fold=0``. In plain words:
   a rule time that does not exist on a spring-forward day (02:30 in America/New_York on
   2027-03-14) is read with the UTC offset in force before the gap, so it lands the length of
   the gap later on the wall clock (02:30 becomes 03:30 EDT); a rule time that happens twice on a
   fall-back day (01:30 on 2027-11-07) means its first occurrence, the one still in daylight
   time. A span that becomes empty or negative after conversion is dropped.
3. Extra hours whose ``service_ids`` match (same test as rules) are added as spans. All spans of
   one consultant are merged into disjoint sorted intervals; overlapping or touching spans merge.
4. Candidate starts inside each merged interval are ``interval.start + k * step`` (k = 0, 1, ...)
   while ``start + duration <= interval.end``, where ``step`` is ``service.interval`` or, when
   that is ``None``, ``duration + buffer_before + buffer_after``. A slot is
   ``[start, start + duration)``.
   The grid never depends on the search window: availability that continues across the edge
   of the window (for instance spans touching at midnight) is followed backwards, past the
   window, to the instant where it really begins. Only availability that is already unbroken
   at the start of the local day 14 days before ``now`` (e.g. 24/7 rules) has no usable
   beginning; its slots lie on the fixed grid ``1970-01-01T00:00Z + k * step`` instead.
5. A candidate ``s`` is open only if all of these hold:
   ``window.start <= s < window.end``; ``now + min_notice <= s <= now + horizon``;
   ``[s, s + duration)`` overlaps no ``time_off`` period; the blocked period
   ``[s - buffer_before, s + duration + buffer_after)`` overlaps no ``busy`` period (busy periods
   are already widened by their own bookings' buffers, which is exactly what the database's
   exclusion constraint compares); and, when ``service.requires_license``, ``patient_state`` is
   given and is in the consultant's ``licensed_states`` (without a patient state such a service
   offers nothing). When the service does not require a license, ``patient_state`` is ignored.
   All periods are half-open, so periods that only touch do not overlap.
6. The result is a list of ``Slot`` with UTC start/end, sorted by (start, consultant_id),
   without duplicates.
7. ``is_open_slot`` is True exactly when ``open_slots`` for that one calendar offers a slot
   starting at that instant (any time zone); it is implemented with ``open_slots`` itself.
8. ``window``, ``now`` and ``start`` must be timezone-aware (``ValueError`` otherwise), as must
   every datetime inside the calendars.
9. ``open_spans`` is the same expansion (items 1 to 3) laid bare, for capacity and anyone else
   who needs a consultant's open time rather than slots: the merged spans of rules and extra
   hours within a window, less time off, in UTC. With ``service_id=None`` every rule and every
   extra hour counts, whatever services it is limited to. Busy periods are not subtracted.
10. ``why_not_open`` says why ``is_open_slot`` is False, one ``Closed`` reason checked in this
    order: in the past, too soon (inside ``min_notice``), past the horizon, consultant not
    licensed in the patient's state, outside the consultant's hours, not one of the grid's start
    times, time off, taken by another booking. It is None exactly when ``is_open_slot`` is True.

Callers may pass only the busy periods, time off and extra hours near the window (a day either
side is plenty) and the weekly rules valid around it. Anything further back matters only for
availability that runs unbroken for days: it fixes where that run's slot grid starts.
"""

from bisect import bisect_left, bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from operator import attrgetter
from zoneinfo import ZoneInfo

__all__ = [
    "Closed",
    "ConsultantCalendar",
    "ExtraHours",
    "Period",
    "ServiceTerms",
    "Slot",
    "WeeklyRule",
    "is_open_slot",
    "open_slots",
    "open_spans",
    "why_not_open",
]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_TICK = timedelta(microseconds=1)
_MIDNIGHT = time(0, 0)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LOOKBACK = timedelta(days=14)
_FAR = datetime.max.replace(tzinfo=UTC)

# (local start, local end or None for "midnight ending the day", valid_from, valid_until)
_RuleEntry = tuple[time, time | None, date | None, date | None]
_Spans = list[tuple[datetime, datetime]]


def _to_utc(value: datetime, what: str) -> datetime:
    """Return ``value`` as a UTC datetime, refusing naive datetimes."""
    if value.tzinfo is UTC:
        return value
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Period:
    """A half-open span of time [start, end) between two aware datetimes."""

    start: datetime
    end: datetime

    def overlaps(self, other: "Period") -> bool:
        """Return True when both periods are non-empty and share at least one instant."""
        a0 = _to_utc(self.start, "Period.start")
        a1 = _to_utc(self.end, "Period.end")
        b0 = _to_utc(other.start, "Period.start")
        b1 = _to_utc(other.end, "Period.end")
        return a0 < a1 and b0 < b1 and a0 < b1 and b0 < a1


@dataclass(frozen=True, slots=True)
class WeeklyRule:
    """A consultant's recurring hours on one weekday, in the consultant's local wall-clock time."""

    weekday: int
    start: time
    end: time
    service_ids: frozenset[int] | None = None
    valid_from: date | None = None
    valid_until: date | None = None

    def __post_init__(self) -> None:
        """Reject rules that cannot describe a span of one local day."""
        if not 0 <= self.weekday <= 6:
            raise ValueError(f"weekday must be 0..6, got {self.weekday}")
        if self.end != _MIDNIGHT and self.end.replace(fold=0) <= self.start.replace(fold=0):
            raise ValueError("rule end must be after its start, or time(0, 0) for midnight")


@dataclass(frozen=True, slots=True)
class ExtraHours:
    """One-off additional availability, as an absolute period."""

    period: Period
    service_ids: frozenset[int] | None = None


@dataclass(frozen=True, slots=True)
class ConsultantCalendar:
    """Everything the engine needs to know about one consultant."""

    consultant_id: int
    zone: ZoneInfo
    rules: tuple[WeeklyRule, ...]
    licensed_states: frozenset[str] = frozenset()
    extra_hours: tuple[ExtraHours, ...] = ()
    time_off: tuple[Period, ...] = ()
    busy: tuple[Period, ...] = ()


@dataclass(frozen=True, slots=True)
class ServiceTerms:
    """The parts of a service that shape its slots."""

    service_id: int
    duration: timedelta
    buffer_before: timedelta = _ZERO
    buffer_after: timedelta = _ZERO
    min_notice: timedelta = _ZERO
    horizon: timedelta = timedelta(days=90)
    interval: timedelta | None = None
    requires_license: bool = False

    def __post_init__(self) -> None:
        """Reject terms the engine cannot lay out (non-positive duration or step)."""
        if self.duration <= _ZERO:
            raise ValueError("duration must be positive")
        if self.interval is not None and self.interval <= _ZERO:
            raise ValueError("interval must be positive when set")
        if self.buffer_before < _ZERO or self.buffer_after < _ZERO:
            raise ValueError("buffers must not be negative")


@dataclass(frozen=True, slots=True)
class Slot:
    """One open, bookable slot of a consultant for a service, in UTC."""

    consultant_id: int
    service_id: int
    start: datetime
    end: datetime


_slot_start = attrgetter("start")


def _serves(service_ids: frozenset[int] | None, service_id: int | None) -> bool:
    """Whether hours limited to ``service_ids`` serve ``service_id`` (``None``: any service)."""
    return service_id is None or service_ids is None or service_id in service_ids


def _rule_table(
    rules: Iterable[WeeklyRule], service_id: int | None
) -> tuple[list[list[_RuleEntry]], date | None]:
    """Group the rules that serve ``service_id`` (``None``: any service) by weekday.

    Also return the earliest local date any of them can apply (``None``: unbounded).
    """
    table: list[list[_RuleEntry]] = [[] for _ in range(7)]
    earliest: date | None = date.max
    for rule in rules:
        if not _serves(rule.service_ids, service_id):
            continue
        end = None if rule.end == _MIDNIGHT else rule.end.replace(tzinfo=None, fold=0)
        start = rule.start.replace(tzinfo=None, fold=0)
        table[rule.weekday].append((start, end, rule.valid_from, rule.valid_until))
        if rule.valid_from is None:
            earliest = None
        elif earliest is not None and rule.valid_from < earliest:
            earliest = rule.valid_from
    return table, earliest


def _expand(
    table: list[list[_RuleEntry]], zone: ZoneInfo, first: date, last: date, out: _Spans
) -> None:
    """Append the UTC spans the rules give on local dates ``first`` .. ``last`` to ``out``."""
    day = first
    while day <= last:
        for start, end, valid_from, valid_until in table[day.weekday()]:
            if (valid_from is not None and day < valid_from) or (
                valid_until is not None and day > valid_until
            ):
                continue
            a = datetime.combine(day, start, tzinfo=zone).astimezone(UTC)
            if end is None:
                b = datetime.combine(day + _DAY, _MIDNIGHT, tzinfo=zone).astimezone(UTC)
            else:
                b = datetime.combine(day, end, tzinfo=zone).astimezone(UTC)
            if a < b:
                out.append((a, b))
        day += _DAY


def _extra_spans(calendar: ConsultantCalendar, service_id: int | None) -> _Spans:
    """The calendar's extra hours that serve ``service_id`` (``None``: any), as UTC spans."""
    return [
        (_to_utc(x.period.start, "extra hours"), _to_utc(x.period.end, "extra hours"))
        for x in calendar.extra_hours
        if _serves(x.service_ids, service_id)
    ]


def _merge(spans: _Spans) -> tuple[list[datetime], list[datetime]]:
    """Merge UTC spans into disjoint sorted intervals; return their starts and ends."""
    spans.sort()
    starts: list[datetime] = []
    ends: list[datetime] = []
    for a, b in spans:
        if b <= a:
            continue
        if ends and a <= ends[-1]:
            if b > ends[-1]:
                ends[-1] = b
        else:
            starts.append(a)
            ends.append(b)
    return starts, ends


def _obstacles(
    calendar: ConsultantCalendar, before: timedelta, after: timedelta
) -> tuple[list[datetime], list[datetime]]:
    """Merge time off and busy periods into the spans a session ``[s, s + duration)`` must miss.

    A busy period ``[a, b)`` overlaps the blocked period ``[s - before, s + duration + after)``
    exactly when ``[a - after, b + before)`` overlaps the session, so both kinds of period
    can be handled as one sorted list. A sentinel at the far end saves bounds checks.
    """
    spans: _Spans = []
    for p in calendar.time_off:
        a, b = p.start, p.end
        if a.tzinfo is not UTC:
            a = _to_utc(a, "time off")
        if b.tzinfo is not UTC:
            b = _to_utc(b, "time off")
        spans.append((a, b))
    for p in calendar.busy:
        a, b = p.start, p.end
        if a.tzinfo is not UTC:
            a = _to_utc(a, "busy period")
        if b.tzinfo is not UTC:
            b = _to_utc(b, "busy period")
        if b > a:
            spans.append((a - after, b + before))
    starts, ends = _merge(spans)
    starts.append(_FAR)
    ends.append(_FAR)
    return starts, ends


def _consultant_slots(
    calendar: ConsultantCalendar,
    service: ServiceTerms,
    step: timedelta,
    lo: datetime,
    stop: datetime,
    floor: datetime,
    out: list[Slot],
) -> None:
    """Append one consultant's open slots with ``lo <= start < stop`` to ``out``."""
    service_id = service.service_id
    duration = service.duration
    zone = calendar.zone
    table, earliest = _rule_table(calendar.rules, service_id)
    spans = _extra_spans(calendar, service_id)
    if not spans and earliest == date.max:
        return  # no rule and no extra hours for this service

    first_day = lo.astimezone(zone).date() - _DAY
    last_day = (stop + duration).astimezone(zone).date() + _DAY
    floor_day = floor.astimezone(zone).date()
    _expand(table, zone, first_day, last_day, spans)

    # Find the first interval that can hold a slot starting at or after ``lo`` and make sure
    # its real beginning is known: spans of dates before ``first_day`` end no later than about
    # local midnight of ``first_day``, so they cannot touch an interval starting a day later.
    chunk = 2
    while True:
        starts, ends = _merge(spans)
        index = bisect_left(ends, lo + duration)
        if index == len(ends):
            return
        anchor: datetime | None = starts[index]
        next_midnight = datetime.combine(first_day + _DAY, _MIDNIGHT, tzinfo=zone)
        if starts[index] >= next_midnight.astimezone(UTC):
            break  # nothing earlier can touch it
        if earliest is not None and first_day <= earliest:
            break  # no rule applies before first_day
        if first_day <= floor_day:
            anchor = None  # unbroken since before the look-back floor: use the fixed grid
            break
        new_first = max(floor_day, first_day - timedelta(days=chunk))
        _expand(table, zone, new_first, first_day - _DAY, spans)
        first_day = new_first
        chunk *= 2

    block_starts, block_ends = _obstacles(calendar, service.buffer_before, service.buffer_after)
    consultant_id = calendar.consultant_id
    i_block = bisect_right(block_ends, lo)
    block_start = block_starts[i_block]
    block_end = block_ends[i_block]
    append = out.append

    for k in range(index, len(starts)):
        begin = starts[k]
        if begin >= stop:
            break
        limit = ends[k]
        base = begin if (k > index or anchor is not None) else _EPOCH
        s = base + step * -((base - (lo if lo > begin else begin)) // step)
        while s < stop:
            e = s + duration
            if e > limit:
                break
            if s >= block_end:
                i_block = bisect_right(block_ends, s, i_block)
                block_start = block_starts[i_block]
                block_end = block_ends[i_block]
            if block_start < e:
                # Blocked: jump to the first grid point at or after the end of the obstacle.
                s = base + step * -((base - block_end) // step)
                continue
            append(Slot(consultant_id, service_id, s, e))
            s += step


def open_slots(
    calendars: Iterable[ConsultantCalendar],
    service: ServiceTerms,
    window: Period,
    now: datetime,
    patient_state: str | None = None,
) -> list[Slot]:
    """Return the open slots of ``service`` starting in ``window``, sorted by start, consultant."""
    window_start = _to_utc(window.start, "window.start")
    window_end = _to_utc(window.end, "window.end")
    now = _to_utc(now, "now")
    lo = max(window_start, now + service.min_notice)
    stop = min(window_end, now + service.horizon + _TICK)
    if lo >= stop:
        return []
    step = service.interval
    if step is None:
        step = service.duration + service.buffer_before + service.buffer_after
    floor = now + min(service.min_notice, _ZERO) - _LOOKBACK

    chosen = sorted(
        (
            c
            for c in calendars
            if not service.requires_license
            or (patient_state is not None and patient_state in c.licensed_states)
        ),
        key=attrgetter("consultant_id"),
    )
    out: list[Slot] = []
    for calendar in chosen:
        _consultant_slots(calendar, service, step, lo, stop, floor, out)
    # Each consultant's slots are already in start order and consultants were visited in id
    # order, so a stable sort on start alone yields (start, consultant_id) order.
    out.sort(key=_slot_start)

    if len({c.consultant_id for c in chosen}) != len(chosen):
        unique: list[Slot] = []
        for slot in out:
            if (
                unique
                and unique[-1].start == slot.start
                and unique[-1].consultant_id == slot.consultant_id
            ):
                continue
            unique.append(slot)
        out = unique
    return out


def is_open_slot(
    calendar: ConsultantCalendar,
    service: ServiceTerms,
    start: datetime,
    now: datetime,
    patient_state: str | None = None,
) -> bool:
    """Return True when ``open_slots`` offers this consultant a slot starting at ``start``."""
    instant = _to_utc(start, "start")
    window = Period(instant, instant + _TICK)
    return any(
        slot.start == instant
        for slot in open_slots((calendar,), service, window, now, patient_state)
    )


def open_spans(
    calendar: ConsultantCalendar, window: Period, service_id: int | None = None
) -> list[Period]:
    """The consultant's open time within ``window``, in UTC: rules and extra hours less time off.

    The same expansion ``open_slots`` lays its slots on (documented items 1 to 3); see item 9.
    """
    lo = _to_utc(window.start, "window.start")
    hi = _to_utc(window.end, "window.end")
    if hi <= lo:
        return []
    zone = calendar.zone
    table, _ = _rule_table(calendar.rules, service_id)
    spans = _extra_spans(calendar, service_id)
    _expand(
        table, zone, lo.astimezone(zone).date() - _DAY, hi.astimezone(zone).date() + _DAY, spans
    )
    starts, ends = _merge(spans)
    off_starts, off_ends = _merge(
        [(_to_utc(p.start, "time off"), _to_utc(p.end, "time off")) for p in calendar.time_off]
    )
    out: list[Period] = []
    j = 0
    for begin, end in zip(starts, ends, strict=True):
        a, b = max(begin, lo), min(end, hi)
        if a >= b:
            continue
        while j < len(off_ends) and off_ends[j] <= a:
            j += 1  # time off over before this span: over before every later one too
        k = j
        while a < b:
            if k == len(off_starts) or off_starts[k] >= b:
                out.append(Period(a, b))
                break
            if off_starts[k] > a:
                out.append(Period(a, off_starts[k]))
            a = max(a, off_ends[k])
            k += 1
    return out


class Closed(StrEnum):
    """Why a consultant's time is not an open slot of a service (documented item 10)."""

    PAST = "past"
    TOO_SOON = "too_soon"
    PAST_HORIZON = "past_horizon"
    NOT_LICENSED = "not_licensed"
    OUTSIDE_HOURS = "outside_hours"
    NOT_A_START = "not_a_start"
    TIME_OFF = "time_off"
    TAKEN = "taken"


def why_not_open(
    calendar: ConsultantCalendar,
    service: ServiceTerms,
    start: datetime,
    now: datetime,
    patient_state: str | None = None,
) -> Closed | None:
    """Why ``start`` is not an open slot of this consultant, or None when it is open."""
    instant = _to_utc(start, "start")
    now = _to_utc(now, "now")
    if is_open_slot(calendar, service, instant, now, patient_state):
        return None
    if instant < now:
        return Closed.PAST
    if instant < now + service.min_notice:
        return Closed.TOO_SOON
    if instant > now + service.horizon:
        return Closed.PAST_HORIZON
    if service.requires_license and (
        patient_state is None or patient_state not in calendar.licensed_states
    ):
        return Closed.NOT_LICENSED
    # Peel the obstacles off one at a time: what is left open once each is gone names it.
    anytime = replace(
        service, min_notice=_ZERO, horizon=instant - now + _DAY, requires_license=False
    )
    free = replace(calendar, time_off=(), busy=())
    if not is_open_slot(free, anytime, instant, now):
        session = Period(instant, instant + service.duration)
        within = open_spans(free, session, service.service_id) == [session]
        return Closed.NOT_A_START if within else Closed.OUTSIDE_HOURS
    if not is_open_slot(replace(calendar, busy=()), anytime, instant, now):
        return Closed.TIME_OFF
    return Closed.TAKEN
