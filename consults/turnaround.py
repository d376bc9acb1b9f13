"""Turnaround arithmetic for e-consults: business time in the hub's hours and time zone.

Pure standard-library code: no I/O, no clock. ``now`` is never read; every instant is an argument.

Documented behaviour
--------------------
1. Business time is the time inside the hub's opening hours. On every local date ``d`` (in
   ``BusinessHours.zone``) whose ``d.weekday()`` is in ``workdays`` and which is not in
   ``holidays``, the business window runs from ``d`` at ``opens`` to ``d`` at ``closes`` local
   wall-clock time, each converted to UTC; windows are half-open, ``[opening, closing)``. So
   08:00-17:00 stays 08:00-17:00 on the local clock across daylight-saving changes (on a change
   day that switches at 02:00 it still holds nine real hours) and the UTC instants move instead.
2. Daylight-saving edge cases follow PEP 495 with ``fold=0``, as in the slot engine. An opening
   or closing time that does not exist on a spring-forward day (02:30 in America/New_York on
   2027-03-14) is read with the UTC offset in force before the gap, so it lands the length of
   the gap later on the wall clock (02:30 becomes 03:30 EDT); one that happens twice on a
   fall-back day (01:30 on 2026-11-01) means its first occurrence, the one still in daylight
   time. The ``fold`` attribute of ``opens`` and ``closes`` is ignored. A window that becomes
   empty after conversion holds no business time. Where a zone skips or repeats a whole
   calendar day so that two consecutive days' windows overlap, the overlap counts once (the
   later window starts where the earlier one ends).
3. ``business_time_between(hours, start, end)`` is the business time inside ``[start, end)``,
   zero when ``end <= start``. It is additive: for ``start <= mid <= end`` it equals
   ``business_time_between(hours, start, mid) + business_time_between(hours, mid, end)``.
4. ``add_business_time(hours, start, amount)`` is the earliest instant ``t >= start`` with
   ``business_time_between(hours, start, t) == amount``. In plain words: outside business hours
   the clock starts at the next opening; an amount used up exactly at a closing time gives that
   closing instant, not the next opening; ``amount == 0`` gives the instant ``start`` itself
   (in UTC, like every result). A negative amount raises ``ValueError``.
5. ``due_by(hours, submitted_at, turnaround_hours)`` is
   ``add_business_time(hours, submitted_at, timedelta(hours=turnaround_hours))``.
6. ``resumed_due_by(hours, paused_at, due_at, resumed_at)``: the business time that was left at
   the pause, ``business_time_between(hours, paused_at, due_at)``, is counted again from
   ``resumed_at``. If the e-consult was already overdue at the pause (``due_at <= paused_at``)
   nothing is left and the answer is ``resumed_at``. So a zero-length pause, or a pause wholly
   outside business hours, leaves a due time computed by ``due_by`` as it was. A resume before
   the pause raises ``ValueError``.
7. Every datetime argument must be timezone-aware (``ValueError`` otherwise); any zone or fixed
   offset will do. Results are UTC datetimes (``tzinfo is datetime.UTC``).
8. ``BusinessHours`` refuses with ``ValueError``: ``closes <= opens``, ``opens`` or ``closes``
   carrying a ``tzinfo`` (they are local wall-clock times in ``zone``), empty ``workdays``,
   weekday numbers outside 0..6 and holidays that are not plain dates.
9. The work is one step per local calendar date: linear in the span for
   ``business_time_between``, and bounded for ``add_business_time``: an amount not used up within
   10 years (3,653 days) of ``start`` raises ``ValueError`` instead of searching further (so a
   calendar of holidays only cannot loop forever). Instants so near the ends of the datetime
   range that the arithmetic would overflow also raise ``ValueError``.
"""

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

__all__ = [
    "BusinessHours",
    "add_business_time",
    "business_time_between",
    "due_by",
    "resumed_due_by",
]

_ZERO = timedelta(0)
_DAY = timedelta(days=1)
_SEARCH_DAYS = 3653  # ten years, leap days included
_Window = tuple[datetime, datetime]


def _to_utc(value: datetime, what: str) -> datetime:
    """Return ``value`` as a UTC datetime, refusing naive datetimes."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{what} must be a timezone-aware datetime, got {value!r}")
    return value.astimezone(UTC)


@dataclass(frozen=True, slots=True)
class BusinessHours:
    """When the hub works: local opening hours on workdays, minus holidays."""

    zone: ZoneInfo
    opens: time
    closes: time
    workdays: frozenset[int] = frozenset({0, 1, 2, 3, 4})
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        """Reject hours that cannot describe one span per local day."""
        if self.opens.tzinfo is not None or self.closes.tzinfo is not None:
            raise ValueError("opens and closes must be naive local wall-clock times")
        if self.closes <= self.opens:
            raise ValueError(f"closes ({self.closes}) must be after opens ({self.opens})")
        if not self.workdays:
            raise ValueError("workdays must not be empty")
        for weekday in self.workdays:
            if isinstance(weekday, bool) or not isinstance(weekday, int) or not 0 <= weekday <= 6:
                raise ValueError(f"workdays must be weekday numbers 0..6, got {weekday!r}")
        for holiday in self.holidays:
            if isinstance(holiday, datetime) or not isinstance(holiday, date):
                raise ValueError(f"holidays must be dates, got {holiday!r}")


def _windows(hours: BusinessHours, first: date, last: date) -> Iterator[_Window]:
    """Yield the non-empty UTC business windows of local dates ``first`` .. ``last``, in order."""
    zone = hours.zone
    opens = hours.opens.replace(fold=0)
    closes = hours.closes.replace(fold=0)
    workdays = hours.workdays
    holidays = hours.holidays

    def raw(day: date) -> _Window | None:
        """The window of one local date before clipping, or None when the hub is closed."""
        if day.weekday() not in workdays or day in holidays:
            return None
        a = datetime.combine(day, opens, tzinfo=zone).astimezone(UTC)
        b = datetime.combine(day, closes, tzinfo=zone).astimezone(UTC)
        return a, b

    previous = raw(first - _DAY)
    day = first
    while True:
        current = raw(day)
        if current is not None:
            a, b = current
            if previous is not None and previous[1] > a:
                a = previous[1]  # a skipped or repeated day: count the overlap once
            if a < b:
                yield a, b
        if day >= last:
            return
        previous = current
        day += _DAY


def business_time_between(hours: BusinessHours, start: datetime, end: datetime) -> timedelta:
    """Business time inside [start, end); zero when end <= start."""
    lo = _to_utc(start, "start")
    hi = _to_utc(end, "end")
    if hi <= lo:
        return _ZERO
    total = _ZERO
    try:
        first = lo.astimezone(hours.zone).date() - _DAY
        last = hi.astimezone(hours.zone).date() + _DAY
        for a, b in _windows(hours, first, last):
            if b <= lo:
                continue
            if a >= hi:
                break
            total += min(b, hi) - max(a, lo)
    except OverflowError as exc:
        raise ValueError("instants too near the ends of the datetime range") from exc
    return total


def add_business_time(hours: BusinessHours, start: datetime, amount: timedelta) -> datetime:
    """The instant at which `amount` of business time has passed since `start`."""
    instant = _to_utc(start, "start")
    if amount < _ZERO:
        raise ValueError(f"amount must not be negative, got {amount}")
    if amount == _ZERO:
        return instant
    remaining = amount
    try:
        first = instant.astimezone(hours.zone).date() - _DAY
        if first > date.max - timedelta(days=_SEARCH_DAYS + 1):
            last = date.max
        else:
            last = first + timedelta(days=_SEARCH_DAYS + 1)
        for a, b in _windows(hours, first, last):
            if b <= instant:
                continue
            a = max(a, instant)
            if remaining <= b - a:
                return a + remaining
            remaining -= b - a
    except OverflowError as exc:
        raise ValueError("instants too near the ends of the datetime range") from exc
    raise ValueError(
        f"{amount} of business time is not used up within {_SEARCH_DAYS} days of {start}"
    )


def due_by(hours: BusinessHours, submitted_at: datetime, turnaround_hours: int) -> datetime:
    """When an e-consult submitted at `submitted_at` is due."""
    if turnaround_hours < 0:
        raise ValueError(f"turnaround_hours must not be negative, got {turnaround_hours}")
    return add_business_time(hours, submitted_at, timedelta(hours=turnaround_hours))


def resumed_due_by(
    hours: BusinessHours, paused_at: datetime, due_at: datetime, resumed_at: datetime
) -> datetime:
    """The new due time after the clock was paused from `paused_at` until `resumed_at`.

    The business time that was left at the pause is counted again from the resume. If the
    e-consult was already overdue at the pause (due_at <= paused_at), nothing is left: return
    resumed_at.
    """
    paused = _to_utc(paused_at, "paused_at")
    due = _to_utc(due_at, "due_at")
    resumed = _to_utc(resumed_at, "resumed_at")
    if resumed < paused:
        raise ValueError(f"resumed_at ({resumed_at}) is before paused_at ({paused_at})")
    if due <= paused:
        return resumed
    return add_business_time(hours, resumed, business_time_between(hours, paused, due))
