"""Unit tests for the one local week: Monday 00:00 to Monday 00:00 on a zone's clock, in UTC."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from scheduling.weeks import local_week, monday_of

LA = ZoneInfo("America/Los_Angeles")
NY = ZoneInfo("America/New_York")


def test_any_day_of_a_week_gives_its_monday() -> None:
    assert {monday_of(date(2027, 3, d)) for d in range(8, 15)} == {date(2027, 3, 8)}
    assert monday_of(date(2027, 3, 15)) == date(2027, 3, 15)


def test_a_week_runs_from_monday_midnight_to_monday_midnight_on_the_local_clock_in_utc() -> None:
    week = local_week(date(2027, 3, 3), NY)
    assert week.start == datetime(2027, 3, 1, 5, tzinfo=UTC)  # midnight EST
    assert week.end == datetime(2027, 3, 8, 5, tzinfo=UTC)
    assert week.start.tzinfo is UTC and week.end.tzinfo is UTC


def test_the_week_of_spring_forward_is_an_hour_shorter_and_fall_back_an_hour_longer() -> None:
    spring = local_week(date(2027, 3, 14), LA)  # Sunday 14 March 2027, 02:00 -> 03:00
    assert spring.start == datetime(2027, 3, 8, 8, tzinfo=UTC)  # midnight PST
    assert spring.end == datetime(2027, 3, 15, 7, tzinfo=UTC)  # midnight PDT
    assert spring.end - spring.start == timedelta(hours=167)
    fall = local_week(date(2027, 11, 7), LA)  # Sunday 7 November 2027, 02:00 -> 01:00
    assert fall.end - fall.start == timedelta(hours=169)


def test_consecutive_weeks_meet() -> None:
    this, following = local_week(date(2027, 3, 10), LA), local_week(date(2027, 3, 15), LA)
    assert this.end == following.start
