"""Exceptions to the weekly hours: time off, extra hours, and rules' validity dates."""

from __future__ import annotations

from datetime import date

from scheduling.slots import ExtraHours, open_slots
from tests.unit.slots_support import (
    MON,
    NY,
    TUE,
    WED,
    calendar,
    day_window,
    local,
    local_times,
    period,
    rule,
    service,
    utc,
)


def test_time_off_removes_the_slots_it_overlaps() -> None:
    away = period(local(NY, 2027, 3, 8, 10, 30), local(NY, 2027, 3, 8, 11))
    cal = calendar(rule(MON, "09:00", "13:00"), time_off=(away,))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "11:00", "12:00"]


def test_time_off_for_whole_days_removes_those_days() -> None:
    holiday = period(local(NY, 2027, 3, 8), local(NY, 2027, 3, 10))
    cal = calendar(*[rule(d, "09:00", "10:00") for d in (MON, TUE, WED)], time_off=(holiday,))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8, 3), now=utc(2027, 3, 1))
    assert local_times(slots, NY) == ["2027-03-10 09:00"]


def test_time_off_only_has_to_miss_the_session_not_its_buffers() -> None:
    away = period(local(NY, 2027, 3, 8, 12), local(NY, 2027, 3, 8, 13))
    cal = calendar(rule(MON, "09:00", "12:00"), time_off=(away,))
    terms = service(60, buffer_after=30, interval=60)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "10:00", "11:00"]


def test_extra_hours_add_slots() -> None:
    saturday = ExtraHours(period(local(NY, 2027, 3, 13, 10), local(NY, 2027, 3, 13, 12)))
    cal = calendar(rule(MON, "09:00", "10:00"), extra_hours=(saturday,))
    window = day_window(NY, 2027, 3, 8, days=7)
    slots = open_slots([cal], service(60), window, now=utc(2027, 3, 1))
    assert local_times(slots, NY) == ["2027-03-08 09:00", "2027-03-13 10:00", "2027-03-13 11:00"]


def test_extra_hours_touching_weekly_hours_merge_into_one_interval() -> None:
    later = ExtraHours(period(local(NY, 2027, 3, 8, 11), local(NY, 2027, 3, 8, 12)))
    cal = calendar(rule(MON, "09:00", "11:00"), extra_hours=(later,))
    slots = open_slots([cal], service(90), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "10:30"]


def test_rules_and_extra_hours_for_other_services_are_ignored() -> None:
    cal = calendar(
        rule(MON, "09:00", "10:00", service_ids=frozenset({1})),
        rule(MON, "13:00", "14:00", service_ids=frozenset({2})),
        rule(MON, "16:00", "17:00"),
        extra_hours=(
            ExtraHours(
                period(local(NY, 2027, 3, 8, 18), local(NY, 2027, 3, 8, 19)), frozenset({1})
            ),
            ExtraHours(
                period(local(NY, 2027, 3, 8, 20), local(NY, 2027, 3, 8, 21)), frozenset({2})
            ),
        ),
    )
    window = day_window(NY, 2027, 3, 8)
    now = utc(2027, 3, 1)
    first = open_slots([cal], service(60, service_id=1), window, now)
    second = open_slots([cal], service(60, service_id=2), window, now)
    third = open_slots([cal], service(60, service_id=3), window, now)
    assert [t[-5:] for t in local_times(first, NY)] == ["09:00", "16:00", "18:00"]
    assert [t[-5:] for t in local_times(second, NY)] == ["13:00", "16:00", "20:00"]
    assert [t[-5:] for t in local_times(third, NY)] == ["16:00"]
    assert {s.service_id for s in second} == {2}


def test_rule_applies_only_from_valid_from_to_valid_until_inclusive() -> None:
    cal = calendar(
        rule(MON, "09:00", "10:00", valid_from=date(2027, 3, 8), valid_until=date(2027, 3, 15))
    )
    window = day_window(NY, 2027, 3, 1, days=28)
    slots = open_slots([cal], service(60), window, now=utc(2027, 2, 25))
    assert local_times(slots, NY) == ["2027-03-08 09:00", "2027-03-15 09:00"]
