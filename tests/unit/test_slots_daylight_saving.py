"""The slot engine keeps local wall-clock hours across daylight-saving changes."""

from __future__ import annotations

from datetime import UTC, timedelta

from scheduling.slots import open_slots
from tests.unit.slots_support import (
    FRI,
    LA,
    MON,
    NY,
    SUN,
    calendar,
    day_window,
    local,
    local_times,
    period,
    rule,
    service,
    starts,
    utc,
)


def test_nine_am_stays_nine_am_local_across_spring_forward() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), zone=LA)
    window = period(utc(2027, 3, 8), utc(2027, 3, 16))
    slots = open_slots([cal], service(60), window, now=utc(2027, 3, 1))
    assert starts(slots) == [
        utc(2027, 3, 8, 17), utc(2027, 3, 8, 18), utc(2027, 3, 8, 19),  # PST, UTC-8
        utc(2027, 3, 15, 16), utc(2027, 3, 15, 17), utc(2027, 3, 15, 18),  # PDT, UTC-7
    ]  # fmt: skip
    assert local_times(slots, LA)[0] == "2027-03-08 09:00"
    assert local_times(slots, LA)[3] == "2027-03-15 09:00"


def test_results_are_utc_and_one_duration_long() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), zone=LA)
    slots = open_slots([cal], service(60), day_window(LA, 2027, 3, 15), now=utc(2027, 3, 1))
    assert slots
    for slot in slots:
        assert slot.start.tzinfo is UTC
        assert slot.end.tzinfo is UTC
        assert slot.end - slot.start == timedelta(minutes=60)
        assert (slot.consultant_id, slot.service_id) == (1, 1)


def test_window_given_in_new_york_offsets_finds_the_same_instants() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), zone=LA)
    in_utc = period(utc(2027, 3, 8), utc(2027, 3, 16))
    in_new_york = period(in_utc.start.astimezone(NY), in_utc.end.astimezone(NY))
    now = utc(2027, 3, 1).astimezone(NY)
    expected = open_slots([cal], service(60), in_utc, now=utc(2027, 3, 1))
    assert open_slots([cal], service(60), in_new_york, now=now) == expected
    assert starts(expected)[0] == utc(2027, 3, 8, 17)
    assert starts(expected)[3] == utc(2027, 3, 15, 16)


def test_nine_am_stays_nine_am_local_across_fall_back() -> None:
    cal = calendar(rule(MON, "09:00", "10:00"), zone=LA)
    window = period(local(NY, 2026, 10, 26), local(NY, 2026, 11, 3))
    slots = open_slots([cal], service(60), window, now=utc(2026, 10, 20))
    assert starts(slots) == [utc(2026, 10, 26, 16), utc(2026, 11, 2, 17)]  # PDT, then PST
    assert local_times(slots, LA) == ["2026-10-26 09:00", "2026-11-02 09:00"]


def test_rule_time_missing_on_spring_forward_day_is_read_an_hour_later_on_the_wall_clock() -> None:
    cal = calendar(rule(SUN, "02:30", "04:00"))
    slots = open_slots([cal], service(30), day_window(NY, 2027, 3, 14), now=utc(2027, 3, 1))
    # 02:30 does not exist that night; read with the EST offset it is 07:30 UTC = 03:30 EDT.
    assert starts(slots) == [utc(2027, 3, 14, 7, 30)]
    assert local_times(slots, NY) == ["2027-03-14 03:30"]


def test_rule_time_repeated_on_fall_back_day_means_its_first_occurrence() -> None:
    cal = calendar(rule(SUN, "01:30", "03:00"))
    slots = open_slots([cal], service(60), day_window(NY, 2026, 11, 1), now=utc(2026, 10, 20))
    # 01:30 EDT = 05:30 UTC; the span runs to 03:00 EST = 08:00 UTC, 2.5 real hours.
    assert starts(slots) == [utc(2026, 11, 1, 5, 30), utc(2026, 11, 1, 6, 30)]


def test_span_swallowed_by_the_spring_forward_gap_is_dropped() -> None:
    cal = calendar(rule(SUN, "02:30", "03:00"))
    window = period(local(NY, 2027, 3, 14), local(NY, 2027, 3, 22))
    slots = open_slots([cal], service(30), window, now=utc(2027, 3, 1))
    assert local_times(slots, NY) == ["2027-03-21 02:30"]


def test_rule_ending_at_midnight_runs_to_the_end_of_the_local_day() -> None:
    cal = calendar(rule(FRI, "22:00", "00:00"))
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 12), now=utc(2027, 3, 1))
    assert local_times(slots, NY) == ["2027-03-12 22:00", "2027-03-12 23:00"]
