"""Business hours keep their local opening times across daylight-saving changes."""

from __future__ import annotations

from datetime import time, timedelta
from zoneinfo import ZoneInfo

from consults.turnaround import (
    BusinessHours,
    add_business_time,
    business_time_between,
    due_by,
)
from tests.unit.turnaround_support import NY, SUN, hours, hub, local, ny, utc


def test_spring_forward_keeps_local_opening_hours() -> None:
    # Clocks go forward on Sunday 2027-03-14; Monday 08:00 EDT is 12:00 UTC, not 13:00.
    due = due_by(hub(), ny(2027, 3, 12, 15), 8)
    assert due == utc(2027, 3, 15, 18)
    assert due.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z") == "2027-03-15 14:00 EDT"


def test_fall_back_keeps_local_opening_hours() -> None:
    # Clocks go back on Sunday 2026-11-01; Monday 08:00 EST is 13:00 UTC.
    due = due_by(hub(), ny(2026, 10, 30, 15), 8)
    assert due == utc(2026, 11, 2, 19)
    assert due.astimezone(NY).strftime("%Y-%m-%d %H:%M %Z") == "2026-11-02 14:00 EST"


def test_a_working_day_across_the_change_holds_nine_real_hours_or_the_night_shift_less() -> None:
    every_day = frozenset(range(7))
    assert business_time_between(hub(workdays=every_day), ny(2027, 3, 14), ny(2027, 3, 15)) == (
        hours(9)
    )
    assert business_time_between(hub(workdays=every_day), ny(2026, 11, 1), ny(2026, 11, 2)) == (
        hours(9)
    )
    night = hub("00:00", "06:00", workdays=every_day)
    assert business_time_between(night, ny(2027, 3, 14), ny(2027, 3, 15)) == hours(5)
    assert business_time_between(night, ny(2026, 11, 1), ny(2026, 11, 2)) == hours(7)


def test_an_opening_time_in_the_spring_gap_is_read_with_the_offset_before_the_gap() -> None:
    # 02:30 does not exist on 2027-03-14 in New York: fold=0 reads it as 02:30 EST = 03:30 EDT.
    sunday = hub("02:30", "05:00", workdays=frozenset({SUN}))
    assert business_time_between(sunday, ny(2027, 3, 14), ny(2027, 3, 15)) == hours(1.5)
    assert add_business_time(sunday, ny(2027, 3, 13), timedelta(minutes=1)) == utc(
        2027, 3, 14, 7, 31
    )


def test_an_opening_time_in_the_autumn_fold_means_its_first_occurrence() -> None:
    # 01:30 happens twice on 2026-11-01 in New York: fold=0 is the first, 01:30 EDT = 05:30 UTC.
    sunday = hub("01:30", "03:00", workdays=frozenset({SUN}))
    assert add_business_time(sunday, ny(2026, 10, 31), timedelta(minutes=1)) == utc(
        2026, 11, 1, 5, 31
    )
    assert business_time_between(sunday, ny(2026, 11, 1), ny(2026, 11, 2)) == hours(2.5)


def test_a_zone_that_skips_a_whole_day_counts_overlapping_windows_once() -> None:
    # Samoa skipped Friday 2011-12-30. Read with fold=0, that Friday's 08:00-17:00 lands on
    # Saturday 31's 08:00-17:00, which an every-day hub also works: nine hours, counted once.
    apia = ZoneInfo("Pacific/Apia")
    every_day = hub(zone=apia, workdays=frozenset(range(7)))
    weekdays = hub(zone=apia)
    start, end = local(apia, 2011, 12, 29), local(apia, 2012, 1, 1)
    assert business_time_between(every_day, start, end) == hours(18)
    assert business_time_between(weekdays, start, end) == hours(18)
    assert due_by(weekdays, local(apia, 2011, 12, 29, 17), 1) == local(apia, 2011, 12, 31, 9)


def test_the_fold_attribute_of_opening_times_is_ignored() -> None:
    plain = hub("01:30", "03:00", workdays=frozenset({SUN}))
    folded = BusinessHours(NY, time(1, 30, fold=1), time(3), workdays=frozenset({SUN}))
    start, end = ny(2026, 10, 31), ny(2026, 11, 2)
    assert business_time_between(folded, start, end) == business_time_between(plain, start, end)
