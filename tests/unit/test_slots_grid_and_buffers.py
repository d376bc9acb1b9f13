"""The slot grid (steps, merged and overnight hours, round the clock) and how bookings and
their buffers block slots."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from scheduling.slots import is_open_slot, open_slots
from tests.unit.slots_support import (
    FRI,
    MON,
    NY,
    THU,
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


def test_slots_step_by_duration_plus_buffers_unless_an_interval_is_set() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    window = day_window(NY, 2027, 3, 8)
    now = utc(2027, 3, 1)
    buffered = open_slots([cal], service(45, buffer_before=5, buffer_after=10), window, now)
    assert local_times(buffered, NY) == [
        "2027-03-08 09:00", "2027-03-08 10:00", "2027-03-08 11:00"
    ]  # fmt: skip
    every_half_hour = open_slots([cal], service(60, interval=30), window, now)
    assert [t[-5:] for t in local_times(every_half_hour, NY)] == [
        "09:00", "09:30", "10:00", "10:30", "11:00"
    ]  # fmt: skip


def test_overlapping_rules_merge_into_one_interval() -> None:
    cal = calendar(rule(MON, "09:00", "10:30"), rule(MON, "10:00", "11:00"))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "10:00"]


def test_overnight_hours_across_midnight_form_one_interval() -> None:
    cal = calendar(rule(MON, "22:00", "00:00"), rule(TUE, "00:00", "02:00"))
    slots = open_slots([cal], service(90), day_window(NY, 2027, 3, 8, days=2), utc(2027, 3, 1))
    assert local_times(slots, NY) == ["2027-03-08 22:00", "2027-03-08 23:30"]


def test_slot_grid_follows_availability_that_started_before_the_window() -> None:
    cal = calendar(rule(MON, "22:00", "00:00"), rule(TUE, "00:00", "02:00"))
    terms = service(60, interval=90)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 9), now=utc(2027, 3, 1))
    # Grid anchored at Monday 22:00 (22:00, 23:30, 01:00), not at Tuesday 00:00.
    assert local_times(slots, NY) == ["2027-03-09 01:00"]


def test_slot_grid_of_multi_day_availability_does_not_depend_on_the_window() -> None:
    around_the_clock_weekdays = [rule(day, "00:00", "00:00") for day in (MON, TUE, WED, THU, FRI)]
    cal = calendar(*around_the_clock_weekdays)
    terms = service(45)
    now = utc(2027, 3, 1)
    whole_week = open_slots([cal], terms, day_window(NY, 2027, 3, 1, days=7), now)
    assert local_times(whole_week, NY)[0] == "2027-03-01 00:00"
    thursday_afternoon = period(local(NY, 2027, 3, 4, 12, 10), local(NY, 2027, 3, 4, 14))
    narrow = open_slots([cal], terms, thursday_afternoon, now)
    # Monday 00:00 + 113 x 45 min = Thursday 12:45.
    assert local_times(narrow, NY) == ["2027-03-04 12:45", "2027-03-04 13:30"]
    assert narrow == [
        s for s in whole_week if thursday_afternoon.start <= s.start < thursday_afternoon.end
    ]


def test_round_the_clock_availability_uses_a_fixed_grid() -> None:
    cal = calendar(*[rule(day, "00:00", "00:00") for day in range(7)])
    terms = service(45)
    now = utc(2027, 3, 1, 8, 7)
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    for window in (day_window(NY, 2027, 3, 2), day_window(NY, 2027, 3, 3, days=3)):
        slots = open_slots([cal], terms, window, now)
        assert slots
        assert all((s.start - epoch) % timedelta(minutes=45) == timedelta(0) for s in slots)
        assert all(is_open_slot(cal, terms, s.start, now) for s in slots)


def test_round_the_clock_availability_that_began_recently_is_laid_out_from_its_beginning() -> None:
    since = date(2027, 3, 1)
    cal = calendar(*[rule(day, "00:00", "00:00", valid_from=since) for day in range(7)])
    terms = service(50)
    now = utc(2027, 3, 3)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 4), now)
    # 2027-03-01 00:00 + 87 x 50 min = 2027-03-04 00:30.
    assert local_times(slots, NY)[:2] == ["2027-03-04 00:30", "2027-03-04 01:20"]
    assert all(is_open_slot(cal, terms, s.start, now) for s in slots)


# --- bookings and buffers --------------------------------------------------------------------


def test_existing_booking_blocks_neighbouring_slots_through_its_buffers() -> None:
    # A 10:00-11:00 booking whose own service has a 15-minute buffer after it.
    busy = period(local(NY, 2027, 3, 8, 10), local(NY, 2027, 3, 8, 11, 15))
    cal = calendar(rule(MON, "09:00", "13:00"), busy=(busy,))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "12:00"]


def test_slot_whose_own_buffer_after_would_reach_a_busy_period_is_refused() -> None:
    busy = period(local(NY, 2027, 3, 8, 12), local(NY, 2027, 3, 8, 13))
    cal = calendar(rule(MON, "09:00", "14:00"), busy=(busy,))
    terms = service(60, buffer_after=30, interval=60)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    # 11:00 would block 11:00-12:30; 13:00 blocks 13:00-14:30, which only touches the booking.
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "10:00", "13:00"]


def test_slot_whose_own_buffer_before_would_reach_a_busy_period_is_refused() -> None:
    busy = period(local(NY, 2027, 3, 8, 10), local(NY, 2027, 3, 8, 11))
    cal = calendar(rule(MON, "09:00", "13:00"), busy=(busy,))
    terms = service(60, buffer_before=15, interval=60)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    # 09:00 blocks 08:45-10:00 (touching is fine); 11:00 would block 10:45-12:00.
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "12:00"]


def test_busy_period_that_only_touches_a_slot_leaves_it_open() -> None:
    busy = period(local(NY, 2027, 3, 8, 10), local(NY, 2027, 3, 8, 11))
    cal = calendar(rule(MON, "09:00", "12:00"), busy=(busy,))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == ["09:00", "11:00"]


def test_slot_blocked_by_a_booking_resumes_on_the_grid_after_it() -> None:
    busy = period(local(NY, 2027, 3, 8, 9, 10), local(NY, 2027, 3, 8, 9, 20))
    cal = calendar(rule(MON, "09:00", "11:00"), busy=(busy,))
    terms = service(30, interval=15)
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [t[-5:] for t in local_times(slots, NY)] == [
        "09:30", "09:45", "10:00", "10:15", "10:30"
    ]  # fmt: skip
