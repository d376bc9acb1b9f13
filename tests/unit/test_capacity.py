"""Unit tests for weekly capacity: hours offered by weekly rules and extra hours, less time off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest

from scheduling.capacity import WeekOutcomes, available_hours, weekly_capacity, weeks
from scheduling.slots import (
    ConsultantCalendar,
    ExtraHours,
    Period,
    ServiceTerms,
    WeeklyRule,
    open_slots,
    open_spans,
)
from scheduling.weeks import local_week

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
# Monday 1 March 2027, 15:00 UTC: the clock of the other tests.
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime in 2027."""
    return datetime(2027, month, day, hour, minute, tzinfo=UTC)


def calendar(
    *rules: WeeklyRule,
    zone: ZoneInfo = NY,
    time_off: tuple[Period, ...] = (),
    extra: tuple[ExtraHours, ...] = (),
    consultant_id: int = 1,
) -> ConsultantCalendar:
    """A consultant's calendar with these rules and exceptions."""
    return ConsultantCalendar(
        consultant_id=consultant_id, zone=zone, rules=rules, time_off=time_off, extra_hours=extra
    )


def week_of(day: date, zone: ZoneInfo = NY) -> Period:
    """The local Monday-to-Monday week starting on `day`."""
    return Period(
        datetime.combine(day, time(0), tzinfo=zone),
        datetime.combine(day + timedelta(days=7), time(0), tzinfo=zone),
    )


MORNINGS = tuple(WeeklyRule(d, time(9), time(12)) for d in (MON, TUE, WED, THU, FRI))


def test_weekday_mornings_give_fifteen_hours_a_week() -> None:
    assert available_hours(calendar(*MORNINGS), week_of(date(2027, 3, 1))) == 15.0


def test_only_the_part_of_the_window_is_counted() -> None:
    monday = calendar(WeeklyRule(MON, time(9), time(12)))
    window = Period(datetime(2027, 3, 1, 10, tzinfo=NY), datetime(2027, 3, 1, 11, 30, tzinfo=NY))
    assert available_hours(monday, window) == 1.5


def test_time_off_is_subtracted_and_only_where_it_overlaps_hours() -> None:
    off = Period(datetime(2027, 3, 3, 0, tzinfo=NY), datetime(2027, 3, 5, 10, tzinfo=NY))
    cal = calendar(*MORNINGS, time_off=(off,))
    # Wednesday and Thursday mornings, and Friday 09:00-10:00, are off: 15 - 3 - 3 - 1.
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 8.0


def test_overlapping_time_off_is_not_subtracted_twice() -> None:
    one = Period(datetime(2027, 3, 1, 9, tzinfo=NY), datetime(2027, 3, 1, 11, tzinfo=NY))
    two = Period(datetime(2027, 3, 1, 10, tzinfo=NY), datetime(2027, 3, 1, 12, tzinfo=NY))
    cal = calendar(WeeklyRule(MON, time(9), time(12)), time_off=(one, two))
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 0.0


def test_extra_hours_add_but_overlapping_rules_count_once() -> None:
    extra = (
        ExtraHours(Period(datetime(2027, 3, 6, 9, tzinfo=NY), datetime(2027, 3, 6, 13, tzinfo=NY))),
        ExtraHours(
            Period(datetime(2027, 3, 1, 11, tzinfo=NY), datetime(2027, 3, 1, 14, tzinfo=NY))
        ),
    )
    overlapping = (WeeklyRule(MON, time(9), time(12)), WeeklyRule(MON, time(10), time(11)))
    cal = calendar(*overlapping, extra=extra)
    # Monday 09:00-14:00 (rules and extra hours merged) and Saturday 09:00-13:00.
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 9.0


def test_a_rule_counts_whatever_services_it_is_limited_to() -> None:
    cal = calendar(WeeklyRule(MON, time(9), time(12), service_ids=frozenset({7})))
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 3.0


def test_a_rule_applies_only_between_its_valid_dates() -> None:
    rule = WeeklyRule(
        MON, time(9), time(12), valid_from=date(2027, 3, 8), valid_until=date(2027, 3, 15)
    )
    hours = [available_hours(calendar(rule), week_of(date(2027, 3, d))) for d in (1, 8, 15, 22)]
    assert hours == [0.0, 3.0, 3.0, 0.0]


def test_a_rule_ending_at_midnight_runs_to_the_end_of_the_day() -> None:
    cal = calendar(WeeklyRule(SUN, time(20), time(0)))
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 4.0


def test_nine_to_noon_stays_three_hours_across_the_spring_forward_day() -> None:
    # 14 March 2027: New York moves from EST to EDT at 02:00.
    cal = calendar(WeeklyRule(SUN, time(9), time(12)))
    assert available_hours(cal, week_of(date(2027, 3, 8))) == 3.0


def test_hours_across_the_spring_forward_gap_lose_the_skipped_hour() -> None:
    cal = calendar(WeeklyRule(SUN, time(1), time(4)))
    assert available_hours(cal, week_of(date(2027, 3, 8))) == 2.0


def test_hours_across_the_fall_back_change_gain_the_repeated_hour() -> None:
    # 7 November 2027: 01:00-02:00 happens twice in New York.
    cal = calendar(WeeklyRule(SUN, time(0, 30), time(3)))
    assert available_hours(cal, week_of(date(2027, 11, 1))) == 3.5


def test_a_consultant_in_another_zone_is_counted_in_their_own_wall_clock() -> None:
    # Monday 22:00-24:00 in Los Angeles is Tuesday 01:00-03:00 in New York: still this week.
    cal = calendar(WeeklyRule(MON, time(22), time(0)), zone=LA)
    assert available_hours(cal, week_of(date(2027, 3, 1))) == 2.0
    # Sunday 22:00 in Los Angeles is Monday 01:00 in New York.
    late = calendar(WeeklyRule(SUN, time(22), time(23)), zone=LA)
    sunday_evening = Period(datetime(2027, 2, 28, 18, tzinfo=NY), datetime(2027, 3, 1, tzinfo=NY))
    monday_night = Period(datetime(2027, 3, 1, 1, tzinfo=NY), datetime(2027, 3, 1, 2, tzinfo=NY))
    assert available_hours(late, sunday_evening) == 0.0
    assert available_hours(late, monday_night) == 1.0


def test_capacity_across_spring_forward_is_the_slot_engines_open_time() -> None:
    # Los Angeles springs forward on Sunday 14 March 2027: that week is 167 hours long.
    every_morning = tuple(WeeklyRule(d, time(9), time(12)) for d in range(7))
    conference = Period(datetime(2027, 3, 10, 8, tzinfo=LA), datetime(2027, 3, 10, 10, tzinfo=LA))
    sunday_clinic = ExtraHours(
        Period(datetime(2027, 3, 14, 13, tzinfo=LA), datetime(2027, 3, 14, 15, tzinfo=LA))
    )
    cal = calendar(*every_morning, zone=LA, time_off=(conference,), extra=(sunday_clinic,))
    week = local_week(date(2027, 3, 14), LA)
    assert week.end - week.start == timedelta(days=7, hours=-1)
    hour = ServiceTerms(service_id=1, duration=timedelta(hours=1))
    slots = open_slots([cal], hour, week, NOW)
    slot_hours = sum((s.end - s.start for s in slots), timedelta()) / timedelta(hours=1)
    # 7 mornings of 3 hours, less Wednesday 09:00-10:00 at the conference, plus 2 extra hours.
    assert available_hours(cal, week) == slot_hours == 22.0
    # The very spans the slot engine lays its slots on: nine to noon on the local clock.
    sunday = open_spans(cal, Period(datetime(2027, 3, 14, tzinfo=LA), week.end))
    assert [(p.start.hour, p.end.hour) for p in sunday] == [(16, 19), (20, 22)]  # PDT, UTC-7
    saturday = open_spans(cal, Period(datetime(2027, 3, 13, tzinfo=LA), sunday[0].start))
    assert [(p.start.hour, p.end.hour) for p in saturday] == [(17, 20)]  # PST, UTC-8


def test_weekly_capacity_sums_every_consultant_per_week() -> None:
    first = calendar(*MORNINGS)
    off = Period(datetime(2027, 3, 8, tzinfo=LA), datetime(2027, 3, 15, tzinfo=LA))
    second = calendar(
        WeeklyRule(TUE, time(13), time(17)), zone=LA, time_off=(off,), consultant_id=2
    )
    periods = weeks(NOW, NY, first=0, count=3)
    assert weekly_capacity([first, second], periods) == [19.0, 15.0, 19.0]


def test_weekly_capacity_without_consultants_is_zero_each_week() -> None:
    assert weekly_capacity([], weeks(NOW, NY, first=0, count=2)) == [0.0, 0.0]


def test_weeks_start_on_monday_at_local_midnight() -> None:
    this, following = weeks(NOW, NY, first=0, count=2)
    assert this.start == datetime(2027, 3, 1, tzinfo=NY)
    assert this.end == following.start == datetime(2027, 3, 8, tzinfo=NY)
    assert following.end - following.start == timedelta(days=7, hours=-1)  # spring forward


def test_weeks_can_reach_back_from_the_current_week() -> None:
    past = weeks(NOW, NY, first=-11, count=12)
    assert past[0].start == datetime(2026, 12, 14, tzinfo=NY)
    assert past[-1].start == datetime(2027, 3, 1, tzinfo=NY)
    assert all(a.end == b.start for a, b in pairwise(past))


def test_a_sunday_evening_belongs_to_the_week_that_began_on_monday() -> None:
    sunday_night = datetime(2027, 3, 8, 3, 30, tzinfo=UTC)  # Sunday 22:30 in New York
    (week,) = weeks(sunday_night, NY, first=0, count=1)
    assert week.start == datetime(2027, 3, 1, tzinfo=NY)


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        weeks(datetime(2027, 3, 1), NY, first=0, count=1)
    with pytest.raises(ValueError, match="timezone-aware"):
        available_hours(calendar(*MORNINGS), Period(datetime(2027, 3, 1), datetime(2027, 3, 8)))


def test_the_no_show_rate_is_no_shows_among_sessions_with_an_outcome() -> None:
    assert WeekOutcomes(completed=3, no_show=1).no_show_rate == 25.0
    assert WeekOutcomes(completed=0, no_show=2).no_show_rate == 100.0
    assert WeekOutcomes(completed=4, no_show=0).no_show_rate == 0.0


def test_a_week_without_sessions_has_no_rate_rather_than_zero() -> None:
    assert WeekOutcomes().no_show_rate is None
