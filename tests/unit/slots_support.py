"""Small factories for the slot engine's tests: times, rules, services, calendars."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import (
    ConsultantCalendar,
    Period,
    ServiceTerms,
    Slot,
    WeeklyRule,
)

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# --- small factories -------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """An aware local datetime (fold=0)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def clock(text: str) -> time:
    """'09:30' -> time(9, 30)."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def rule(weekday: int, start: str, end: str, **kwargs: object) -> WeeklyRule:
    """A weekly rule from 'HH:MM' strings."""
    return WeeklyRule(weekday, clock(start), clock(end), **kwargs)  # type: ignore[arg-type]


def service(minutes: int = 60, *, service_id: int = 1, **kwargs: object) -> ServiceTerms:
    """Service terms; timedelta keyword arguments may be given as minutes (int)."""
    values = {
        k: timedelta(minutes=v) if isinstance(v, int) and not isinstance(v, bool) else v
        for k, v in kwargs.items()
    }
    return ServiceTerms(service_id, timedelta(minutes=minutes), **values)  # type: ignore[arg-type]


def calendar(
    *rules: WeeklyRule, consultant_id: int = 1, zone: ZoneInfo = NY, **kwargs: object
) -> ConsultantCalendar:
    """A consultant calendar with the given rules."""
    return ConsultantCalendar(consultant_id, zone, tuple(rules), **kwargs)  # type: ignore[arg-type]


def period(start: datetime, end: datetime) -> Period:
    """A period."""
    return Period(start, end)


def day_window(zone: ZoneInfo, year: int, month: int, day: int, days: int = 1) -> Period:
    """Whole local days, as a window."""
    start = datetime(year, month, day, tzinfo=zone)
    end = datetime.combine(start.date() + timedelta(days=days), time(0), tzinfo=zone)
    return Period(start, end)


def starts(slots: list[Slot]) -> list[datetime]:
    """Slot starts, for compact assertions."""
    return [s.start for s in slots]


def local_times(slots: list[Slot], zone: ZoneInfo) -> list[str]:
    """Slot starts as local 'YYYY-MM-DD HH:MM' strings."""
    return [s.start.astimezone(zone).strftime("%Y-%m-%d %H:%M") for s in slots]
