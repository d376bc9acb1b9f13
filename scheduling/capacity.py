"""Weekly capacity: how many hours consultants make available, week by week.

Pure standard-library code, like the slot engine whose concepts it reuses: a consultant's
`ConsultantCalendar` (weekly rules in local wall-clock time, extra hours, time off) and
half-open `Period`s. Rules are read exactly as `scheduling.slots` reads them: one local date at
a time, `time(0, 0)` as an end meaning the midnight that ends the day, and PEP 495 `fold=0`
for wall-clock times that are skipped or repeated by a daylight-saving change. A rule counts
whatever services it is limited to: an hour offered for any service is an hour of capacity.
Booked time (`ConsultantCalendar.busy`) is not subtracted; it is charted against capacity.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import ConsultantCalendar, Period

__all__ = [
    "WeekOutcomes",
    "available_hours",
    "weekly_capacity",
    "weeks",
]

_DAY = timedelta(days=1)
_WEEK = timedelta(days=7)
_MIDNIGHT = time(0, 0)
_HOUR = 3600.0

_Span = tuple[datetime, datetime]


@dataclass(frozen=True, slots=True)
class WeekOutcomes:
    """How the sessions of one week went: taken place, or the patient did not come."""

    completed: int = 0
    no_show: int = 0

    @property
    def no_show_rate(self) -> float | None:
        """no_show / (completed + no_show), as a percentage; None for a week without sessions."""
        held = self.completed + self.no_show
        return None if held == 0 else 100.0 * self.no_show / held


def weeks(now: datetime, zone: ZoneInfo, *, first: int, count: int) -> list[Period]:
    """`count` weeks, Monday 00:00 to Monday 00:00 on `zone`'s clock, in UTC.

    `first` counts from the week holding `now`: 0 is this week, -11 eleven weeks before it.
    A week that spans a daylight-saving change is an hour shorter or longer, as lived.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    today = now.astimezone(zone).date()
    monday = today - timedelta(days=today.weekday()) + first * _WEEK
    return [
        Period(
            _local_midnight(monday + i * _WEEK, zone),
            _local_midnight(monday + (i + 1) * _WEEK, zone),
        )
        for i in range(count)
    ]


def available_hours(calendar: ConsultantCalendar, window: Period) -> float:
    """Hours within `window` the consultant's rules and extra hours offer, less time off."""
    lo, hi = _utc(window.start), _utc(window.end)
    if hi <= lo:
        return 0.0
    zone = calendar.zone
    spans: list[_Span] = []
    day, last = lo.astimezone(zone).date() - _DAY, hi.astimezone(zone).date() + _DAY
    while day <= last:
        for rule in calendar.rules:
            if rule.weekday != day.weekday():
                continue
            if (rule.valid_from is not None and day < rule.valid_from) or (
                rule.valid_until is not None and day > rule.valid_until
            ):
                continue
            start = _at(day, rule.start, zone)
            end = (
                _local_midnight(day + _DAY, zone)
                if rule.end == _MIDNIGHT
                else _at(day, rule.end, zone)
            )
            spans.append((start, end))
        day += _DAY
    spans.extend((_utc(x.period.start), _utc(x.period.end)) for x in calendar.extra_hours)
    offered = _clip(_merge(spans), lo, hi)
    away = _clip(_merge([(_utc(p.start), _utc(p.end)) for p in calendar.time_off]), lo, hi)
    return (_length(offered) - _length(_intersection(offered, away))) / _HOUR


def weekly_capacity(
    calendars: Iterable[ConsultantCalendar], periods: Sequence[Period]
) -> list[float]:
    """Each period's available hours, summed over every calendar."""
    chosen = list(calendars)
    return [sum(available_hours(c, p) for c in chosen) for p in periods]


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"times must be timezone-aware, got {value!r}")
    return value.astimezone(UTC)


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    # fold=0: a skipped time takes the offset before the gap; a repeated one, its first run.
    return datetime.combine(day, clock.replace(tzinfo=None, fold=0), tzinfo=zone).astimezone(UTC)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return _at(day, _MIDNIGHT, zone)


def _merge(spans: list[_Span]) -> list[_Span]:
    """Disjoint, sorted spans covering the same instants; empty spans dropped."""
    merged: list[_Span] = []
    for a, b in sorted(s for s in spans if s[0] < s[1]):
        if merged and a <= merged[-1][1]:
            if b > merged[-1][1]:
                merged[-1] = (merged[-1][0], b)
        else:
            merged.append((a, b))
    return merged


def _clip(spans: list[_Span], lo: datetime, hi: datetime) -> list[_Span]:
    return [(max(a, lo), min(b, hi)) for a, b in spans if a < hi and b > lo]


def _intersection(left: list[_Span], right: list[_Span]) -> list[_Span]:
    """Where two disjoint, sorted span lists overlap."""
    out: list[_Span] = []
    i = j = 0
    while i < len(left) and j < len(right):
        a, b = max(left[i][0], right[j][0]), min(left[i][1], right[j][1])
        if a < b:
            out.append((a, b))
        if left[i][1] < right[j][1]:
            i += 1
        else:
            j += 1
    return out


def _length(spans: list[_Span]) -> float:
    return sum((b - a).total_seconds() for a, b in spans)
