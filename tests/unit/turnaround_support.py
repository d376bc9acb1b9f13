"""Small factories for the turnaround tests: instants, business hours, hours."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from consults.turnaround import (
    BusinessHours,
)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
MINUS_8 = timezone(timedelta(hours=-8))
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
THANKSGIVING = date(2026, 11, 26)


# --- small factories -------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """An aware local datetime (fold=0)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware New York datetime (fold=0)."""
    return local(NY, year, month, day, hour, minute)


def hub(
    opens: str = "08:00", closes: str = "17:00", *, zone: ZoneInfo = NY, **kwargs: object
) -> BusinessHours:
    """Business hours from 'HH:MM' strings; Monday to Friday in New York unless told."""
    a, b = (time(int(t[:2]), int(t[3:])) for t in (opens, closes))
    return BusinessHours(zone, a, b, **kwargs)  # type: ignore[arg-type]


def hours(n: float) -> timedelta:
    """A timedelta of ``n`` hours."""
    return timedelta(hours=n)
