"""Weekly capacity: how many hours consultants make available, week by week.

Pure standard-library code on top of the slot engine: a consultant's hours are
`scheduling.slots.open_spans`, the very expansion of weekly rules, extra hours and time off that
`open_slots` lays its slots on, so a daylight-saving fix there lands here too. A rule counts
whatever services it is limited to: an hour offered for any service is an hour of capacity.
Booked time (`ConsultantCalendar.busy`) is not subtracted; it is charted against capacity.
Weeks are `scheduling.weeks.local_week`s, as on the pages.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import ConsultantCalendar, Period, open_spans
from scheduling.weeks import local_week, monday_of

__all__ = [
    "WeekOutcomes",
    "available_hours",
    "weekly_capacity",
    "weeks",
    "weeks_between",
]

_WEEK = timedelta(days=7)
_HOUR = 3600.0


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
    """`count` local weeks (`scheduling.weeks.local_week`), Monday to Monday on `zone`'s clock.

    `first` counts from the week holding `now`: 0 is this week, -11 eleven weeks before it.
    A week that spans a daylight-saving change is an hour shorter or longer, as lived.
    """
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    today = now.astimezone(zone).date()
    return [local_week(today + (first + i) * _WEEK, zone) for i in range(count)]


def weeks_between(since: date, until: date, zone: ZoneInfo) -> list[Period]:
    """The local weeks holding the days `since` to `until` (both included), cut to those days.

    The first and last week are shorter when the days start after a Monday or end before a
    Sunday, so that nothing outside the chosen days is counted.
    """
    if until < since:
        raise ValueError("until must not be before since")
    start, end = _midnight(since, zone), _midnight(until + timedelta(days=1), zone)
    found = []
    monday = monday_of(since)
    while monday <= until:
        week = local_week(monday, zone)
        found.append(Period(max(week.start, start), min(week.end, end)))
        monday += _WEEK
    return found


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    # As scheduling.weeks reads local midnight (fold=0), so cut weeks meet whole ones exactly.
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def available_hours(calendar: ConsultantCalendar, window: Period) -> float:
    """Hours within `window` the consultant's rules and extra hours offer, less time off."""
    seconds = sum((p.end - p.start).total_seconds() for p in open_spans(calendar, window))
    return seconds / _HOUR


def weekly_capacity(
    calendars: Iterable[ConsultantCalendar], periods: Sequence[Period]
) -> list[float]:
    """Each period's available hours, summed over every calendar."""
    chosen = list(calendars)
    return [sum(available_hours(c, p) for c in chosen) for p in periods]
