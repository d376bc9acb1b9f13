"""The next session keeps the clinic's wall-clock time, a week or two on, across daylight saving."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from scheduling.next_session import same_time_later

NEW_YORK = ZoneInfo("America/New_York")


def test_a_week_later_is_seven_days_on_when_the_clocks_do_not_change() -> None:
    start = datetime(2027, 3, 1, 15, tzinfo=UTC)  # 10:00 in New York
    assert same_time_later(start, NEW_YORK, 1) == datetime(2027, 3, 8, 15, tzinfo=UTC)


def test_across_the_spring_change_the_wall_clock_stays_and_the_utc_hour_moves() -> None:
    start = datetime(2027, 3, 8, 15, tzinfo=UTC)  # Monday 10:00 EST; clocks go forward 14 March
    later = same_time_later(start, NEW_YORK, 1)
    assert later == datetime(2027, 3, 15, 14, tzinfo=UTC)
    assert later.astimezone(NEW_YORK).hour == 10


def test_two_weeks_across_the_autumn_change() -> None:
    start = datetime(2027, 11, 1, 14, tzinfo=UTC)  # Monday 10:00 EDT; clocks go back 7 November
    later = same_time_later(start, NEW_YORK, 2)
    assert later.astimezone(NEW_YORK).replace(tzinfo=None) == datetime(2027, 11, 15, 10)
    assert later == datetime(2027, 11, 15, 15, tzinfo=UTC)
