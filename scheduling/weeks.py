"""The one "local week": Monday 00:00 to the next Monday 00:00 on a zone's clock, in UTC.

Pages (my week, find a time) and the capacity chart all count weeks this way. Local midnight is
read with PEP 495 ``fold=0``, as the slot engine reads wall-clock times, so a week that holds a
daylight-saving change is an hour shorter or longer, as lived (167 or 169 hours).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from scheduling.slots import Period

__all__ = ["local_week", "monday_of"]

_WEEK = timedelta(days=7)


def monday_of(day: date) -> date:
    """The Monday that starts the week holding `day`."""
    return day - timedelta(days=day.weekday())


def local_week(day: date, zone: ZoneInfo) -> Period:
    """The week holding `day`: its Monday 00:00 to the next Monday 00:00 on `zone`'s clock."""
    monday = monday_of(day)
    return Period(_local_midnight(monday, zone), _local_midnight(monday + _WEEK, zone))


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)
