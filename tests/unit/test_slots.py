"""Unit tests for the slot engine: pure functions, no database."""

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduling.slots import (
    ConsultantCalendar,
    ExtraHours,
    Period,
    ServiceTerms,
    Slot,
    WeeklyRule,
    is_open_slot,
    open_slots,
    open_spans,
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


# --- daylight saving -------------------------------------------------------------------------


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


# --- grid ------------------------------------------------------------------------------------


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


# --- exceptions ------------------------------------------------------------------------------


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


# --- notice and horizon ----------------------------------------------------------------------


def test_slots_closer_than_the_minimum_notice_are_not_offered() -> None:
    cal = calendar(rule(MON, "09:00", "13:00"))
    now = local(NY, 2027, 3, 8, 8, 10)
    slots = open_slots([cal], service(60, min_notice=120), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(slots, NY)] == ["11:00", "12:00"]
    exactly = open_slots([cal], service(60, min_notice=170), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(exactly, NY)] == ["11:00", "12:00"]


def test_slots_in_the_past_are_not_offered() -> None:
    cal = calendar(rule(MON, "09:00", "13:00"))
    now = local(NY, 2027, 3, 8, 10, 30)
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(slots, NY)] == ["11:00", "12:00"]


def test_slots_beyond_the_horizon_are_not_offered_and_the_horizon_itself_is() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    now = local(NY, 2027, 3, 1, 10)
    terms = service(60, horizon=timedelta(days=7))
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 1, days=14), now)
    assert local_times(slots, NY) == [
        "2027-03-01 10:00", "2027-03-01 11:00", "2027-03-08 09:00", "2027-03-08 10:00"
    ]  # fmt: skip


def test_empty_or_past_window_offers_nothing() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    terms = service(60)
    assert open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 10)) == []
    empty = period(local(NY, 2027, 3, 8, 9), local(NY, 2027, 3, 8, 9))
    assert open_slots([cal], terms, empty, now=utc(2027, 3, 1)) == []
    assert open_slots([], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1)) == []


# --- licensing -------------------------------------------------------------------------------


def _licensed_calendar() -> ConsultantCalendar:
    return calendar(rule(MON, "09:00", "10:00"), licensed_states=frozenset({"NY", "NJ"}))


def test_video_session_is_not_offered_to_a_patient_in_an_unlicensed_state() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    assert open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1), "CA") == []


def test_video_session_is_offered_to_a_patient_in_a_licensed_state() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    slots = open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1), "NJ")
    assert local_times(slots, NY) == ["2027-03-08 09:00"]


def test_services_without_license_requirement_ignore_the_patient_state() -> None:
    window = day_window(NY, 2027, 3, 8)
    for state in ("CA", "NY", None):
        slots = open_slots([_licensed_calendar()], service(60), window, utc(2027, 3, 1), state)
        assert len(slots) == 1


def test_video_session_without_a_patient_state_offers_nothing() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    assert open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1)) == []
    assert not is_open_slot(_licensed_calendar(), terms, local(NY, 2027, 3, 8, 9), utc(2027, 3, 1))


def test_licensing_filters_consultants_individually() -> None:
    terms = service(60, requires_license=True)
    ny_only = calendar(
        rule(MON, "09:00", "10:00"), consultant_id=1, licensed_states=frozenset({"NY"})
    )
    ca_only = calendar(
        rule(MON, "09:00", "10:00"), consultant_id=2, licensed_states=frozenset({"CA"})
    )
    slots = open_slots([ny_only, ca_only], terms, day_window(NY, 2027, 3, 8), utc(2027, 3, 1), "CA")
    assert [s.consultant_id for s in slots] == [2]


# --- many consultants ------------------------------------------------------------------------


def test_many_consultants_are_sorted_by_start_then_consultant_id() -> None:
    calendars = [
        calendar(rule(MON, "09:00", "11:00"), consultant_id=3),
        calendar(rule(MON, "06:00", "08:00"), consultant_id=1, zone=LA),  # 09:00-11:00 in NY
        calendar(rule(MON, "10:00", "11:00"), consultant_id=2),
    ]
    slots = open_slots(calendars, service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    times = [t[-5:] for t in local_times(slots, NY)]
    assert list(zip(times, [s.consultant_id for s in slots], strict=True)) == [
        ("09:00", 1), ("09:00", 3), ("10:00", 1), ("10:00", 2), ("10:00", 3)
    ]  # fmt: skip


def test_the_same_calendar_twice_gives_no_duplicate_slots() -> None:
    cal = calendar(rule(MON, "09:00", "11:00"))
    slots = open_slots([cal, cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert len(slots) == 2


def test_calendars_may_be_any_iterable() -> None:
    cals = (calendar(rule(MON, "09:00", "10:00"), consultant_id=i) for i in range(3))
    slots = open_slots(cals, service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))
    assert [s.consultant_id for s in slots] == [0, 1, 2]


# --- is_open_slot ----------------------------------------------------------------------------


def test_is_open_slot_accepts_offered_starts_in_any_time_zone() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"), zone=LA)
    now = utc(2027, 3, 1)
    assert is_open_slot(cal, service(60), utc(2027, 3, 15, 16), now)
    assert is_open_slot(cal, service(60), local(NY, 2027, 3, 15, 12), now)
    assert is_open_slot(cal, service(60), local(LA, 2027, 3, 15, 10), now)


def test_is_open_slot_refuses_starts_off_the_grid_busy_or_outside_hours() -> None:
    busy = period(local(LA, 2027, 3, 15, 10), local(LA, 2027, 3, 15, 11))
    cal = calendar(rule(MON, "09:00", "12:00"), zone=LA, busy=(busy,))
    now = utc(2027, 3, 1)
    assert not is_open_slot(cal, service(60), local(LA, 2027, 3, 15, 9, 30), now)
    assert not is_open_slot(cal, service(60), local(LA, 2027, 3, 15, 10), now)
    assert not is_open_slot(cal, service(60), local(LA, 2027, 3, 15, 12), now)
    assert not is_open_slot(cal, service(60), local(LA, 2027, 3, 16, 9), now)
    assert is_open_slot(cal, service(60), local(LA, 2027, 3, 15, 11), now)


# --- guards and value types ------------------------------------------------------------------


def test_naive_datetimes_raise_value_error() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    terms = service(60)
    naive = datetime(2027, 3, 8, 9)
    aware = utc(2027, 3, 8, 14)
    with pytest.raises(ValueError, match="timezone-aware"):
        open_slots([cal], terms, Period(naive, aware), now=utc(2027, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        open_slots([cal], terms, Period(aware, naive), now=utc(2027, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        open_slots([cal], terms, Period(utc(2027, 3, 8), utc(2027, 3, 9)), now=naive)
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open_slot(cal, terms, naive, now=utc(2027, 3, 1))
    with pytest.raises(ValueError, match="timezone-aware"):
        is_open_slot(cal, terms, aware, now=naive)


def test_naive_busy_period_raises_value_error_instead_of_guessing_a_zone() -> None:
    cal = calendar(
        rule(MON, "09:00", "12:00"), busy=(Period(datetime(2027, 3, 8, 9), utc(2027, 3, 8, 15)),)
    )
    with pytest.raises(ValueError, match="timezone-aware"):
        open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1))


def test_periods_overlap_only_when_they_share_an_instant() -> None:
    a = period(utc(2027, 3, 8, 9), utc(2027, 3, 8, 10))
    assert a.overlaps(period(utc(2027, 3, 8, 9, 59), utc(2027, 3, 8, 11)))
    assert not a.overlaps(period(utc(2027, 3, 8, 10), utc(2027, 3, 8, 11)))
    assert not a.overlaps(period(utc(2027, 3, 8, 8), utc(2027, 3, 8, 9)))
    assert not a.overlaps(period(utc(2027, 3, 8, 9, 30), utc(2027, 3, 8, 9, 30)))
    # 01:30-01:59 happens twice on 2026-11-01 in New York: EDT (fold=0), then EST (fold=1).
    daylight = period(local(NY, 2026, 11, 1, 1, 30), local(NY, 2026, 11, 1, 1, 59))
    standard = period(daylight.start.replace(fold=1), daylight.end.replace(fold=1))
    assert not daylight.overlaps(standard)
    assert daylight.overlaps(period(utc(2026, 11, 1, 5, 58), utc(2026, 11, 1, 6)))


def test_invalid_terms_and_rules_are_refused() -> None:
    with pytest.raises(ValueError):
        service(0)
    with pytest.raises(ValueError):
        service(30, interval=0)
    with pytest.raises(ValueError):
        service(30, buffer_after=-5)
    with pytest.raises(ValueError):
        rule(MON, "12:00", "09:00")
    with pytest.raises(ValueError):
        rule(7, "09:00", "10:00")


# --- properties ------------------------------------------------------------------------------

ZONES = [NY, LA, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"),
         ZoneInfo("America/Havana"), ZoneInfo("Asia/Kolkata")]  # fmt: skip
# Days shortly before daylight-saving changes in one zone or another.
BASES = [utc(2027, 3, 11), utc(2026, 10, 29), utc(2027, 3, 25), utc(2026, 4, 2), utc(2026, 10, 1)]
QUARTER = timedelta(minutes=15)


# --- open spans: the same expansion, for capacity ----------------------------------------------


def test_open_spans_keep_nine_to_noon_on_the_local_clock_across_spring_forward() -> None:
    # Los Angeles moves from PST (UTC-8) to PDT (UTC-7) at 02:00 on Sunday 14 March 2027.
    cal = calendar(rule(SAT, "09:00", "12:00"), rule(SUN, "09:00", "12:00"), zone=LA)
    assert open_spans(cal, day_window(LA, 2027, 3, 8, days=7)) == [
        Period(utc(2027, 3, 13, 17), utc(2027, 3, 13, 20)),
        Period(utc(2027, 3, 14, 16), utc(2027, 3, 14, 19)),
    ]


def test_open_spans_merge_extra_hours_clip_to_the_window_and_subtract_time_off() -> None:
    cal = calendar(
        rule(MON, "09:00", "12:00"),
        rule(MON, "13:00", "17:00"),
        extra_hours=(ExtraHours(period(local(NY, 2027, 3, 1, 12), local(NY, 2027, 3, 1, 13))),),
        time_off=(
            period(local(NY, 2027, 3, 1, 10), local(NY, 2027, 3, 1, 11)),
            period(local(NY, 2027, 3, 1, 14), local(NY, 2027, 3, 1, 15)),
            period(local(NY, 2027, 3, 1, 14, 30), local(NY, 2027, 3, 1, 15, 30)),
        ),
    )
    window = period(local(NY, 2027, 3, 1, 9, 30), local(NY, 2027, 3, 1, 16))
    assert open_spans(cal, window) == [
        Period(utc(2027, 3, 1, 14, 30), utc(2027, 3, 1, 15)),  # 09:30-10:00 New York
        Period(utc(2027, 3, 1, 16), utc(2027, 3, 1, 19)),  # 11:00-14:00
        Period(utc(2027, 3, 1, 20, 30), utc(2027, 3, 1, 21)),  # 15:30-16:00
    ]


def test_open_spans_for_a_service_keep_its_hours_and_without_one_keep_all() -> None:
    cal = calendar(
        rule(MON, "09:00", "10:00", service_ids=frozenset({1})),
        rule(MON, "10:00", "11:00", service_ids=frozenset({2})),
        extra_hours=(
            ExtraHours(
                period(local(NY, 2027, 3, 1, 12), local(NY, 2027, 3, 1, 13)), frozenset({2})
            ),
        ),
    )
    window = day_window(NY, 2027, 3, 1)
    assert open_spans(cal, window, service_id=1) == [
        Period(utc(2027, 3, 1, 14), utc(2027, 3, 1, 15))
    ]
    assert open_spans(cal, window) == [
        Period(utc(2027, 3, 1, 14), utc(2027, 3, 1, 16)),
        Period(utc(2027, 3, 1, 17), utc(2027, 3, 1, 18)),
    ]


def test_open_spans_of_an_empty_window_are_none_and_naive_windows_are_refused() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    assert open_spans(cal, period(utc(2027, 3, 1, 15), utc(2027, 3, 1, 15))) == []
    with pytest.raises(ValueError, match="timezone-aware"):
        open_spans(cal, Period(datetime(2027, 3, 1), datetime(2027, 3, 2)))


@st.composite
def weekly_rules(draw: st.DrawFn, near: date) -> WeeklyRule:
    """A random rule on a quarter-hour grid, sometimes running to midnight or time-bounded."""
    start = draw(st.one_of(st.just(0), st.integers(0, 95)))
    end = draw(st.one_of(st.just(96), st.integers(start + 1, 96)))
    valid_from = valid_until = None
    if draw(st.integers(0, 3)) == 0:
        valid_from = near + timedelta(days=draw(st.integers(-20, 5)))
        valid_until = valid_from + timedelta(days=draw(st.integers(0, 30)))
    return WeeklyRule(
        weekday=draw(st.integers(0, 6)),
        start=time(start // 4, start % 4 * 15),
        end=time(0) if end == 96 else time(end // 4, end % 4 * 15),
        service_ids=draw(st.sampled_from([None, None, frozenset({1}), frozenset({2})])),
        valid_from=valid_from,
        valid_until=valid_until,
    )


def periods_near(base: datetime, count: int) -> st.SearchStrategy[list[Period]]:
    """Random quarter-hour periods within a few days of ``base``."""
    return st.lists(
        st.builds(
            lambda offset, length: Period(
                base + offset * QUARTER, base + (offset + length) * QUARTER
            ),
            st.integers(-96, 96 * 6),
            st.integers(1, 24),
        ),
        max_size=count,
    )


@st.composite
def scenarios(draw: st.DrawFn) -> tuple[ConsultantCalendar, ServiceTerms, Period, datetime]:
    """A random calendar, service, window and now around a daylight-saving change."""
    base = draw(st.sampled_from(BASES))
    zone = draw(st.sampled_from(ZONES))
    cal = ConsultantCalendar(
        consultant_id=draw(st.integers(1, 5)),
        zone=zone,
        rules=tuple(draw(st.lists(weekly_rules(base.date()), min_size=1, max_size=8))),
        extra_hours=tuple(
            ExtraHours(p, draw(st.sampled_from([None, frozenset({1})])))
            for p in draw(periods_near(base, 2))
        ),
        time_off=tuple(draw(periods_near(base, 2))),
        busy=tuple(draw(periods_near(base, 10))),
    )
    terms = ServiceTerms(
        service_id=1,
        duration=draw(st.integers(1, 8)) * QUARTER,
        buffer_before=draw(st.integers(0, 2)) * QUARTER,
        buffer_after=draw(st.integers(0, 2)) * QUARTER,
        min_notice=draw(st.integers(0, 24)) * QUARTER,
        horizon=timedelta(days=draw(st.integers(1, 10))),
        interval=draw(st.sampled_from([None, QUARTER, 2 * QUARTER, 3 * QUARTER, 7 * QUARTER])),
    )
    window = Period(base, base + timedelta(days=draw(st.integers(1, 5))))
    now = base + timedelta(minutes=draw(st.integers(-3 * 1440, 2 * 1440)))
    return cal, terms, window, now


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), probes=st.lists(st.integers(-96, 96 * 6), max_size=12))
def test_is_open_slot_agrees_with_open_slots(
    scenario: tuple[ConsultantCalendar, ServiceTerms, Period, datetime], probes: list[int]
) -> None:
    cal, terms, window, now = scenario
    slots = open_slots([cal], terms, window, now)
    offered = {s.start for s in slots}
    assert starts(slots) == sorted(offered)
    for slot in slots:
        assert is_open_slot(cal, terms, slot.start, now)
        assert is_open_slot(cal, terms, slot.start.astimezone(cal.zone), now)
    for probe in probes:
        start = window.start + probe * QUARTER
        if start not in offered and window.start <= start < window.end:
            assert not is_open_slot(cal, terms, start, now)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios(), cut=st.integers(1, 96 * 5 - 1), width=st.integers(1, 96 * 2))
def test_every_offered_slot_obeys_the_rules_and_sub_windows_agree(
    scenario: tuple[ConsultantCalendar, ServiceTerms, Period, datetime], cut: int, width: int
) -> None:
    cal, terms, window, now = scenario
    slots = open_slots([cal], terms, window, now)
    for slot in slots:
        session = Period(slot.start, slot.end)
        blocked = Period(slot.start - terms.buffer_before, slot.end + terms.buffer_after)
        assert window.start <= slot.start < window.end
        assert now + terms.min_notice <= slot.start <= now + terms.horizon
        assert not any(session.overlaps(p) for p in cal.time_off)
        assert not any(blocked.overlaps(p) for p in cal.busy)
    sub = Period(window.start + cut * QUARTER, window.start + (cut + width) * QUARTER)
    inside = [s for s in slots if sub.start <= s.start < sub.end and s.start < window.end]
    sub_slots = open_slots([cal], terms, sub, now)
    assert [s for s in sub_slots if s.start < window.end] == inside


def brute_force_starts(
    cal: ConsultantCalendar, terms: ServiceTerms, window: Period, now: datetime
) -> list[datetime] | None:
    """The documented rules read literally; None when availability reaches the look-back floor.

    Expands every rule from 14 days before ``now`` (the engine's look-back floor) and walks
    every candidate of every interval, checking every exception and booking. Returns None when
    an offered slot lies in an interval that starts on the floor's local day, because the
    engine then uses its fixed grid instead.
    """
    zone = cal.zone
    floor_day = (now - timedelta(days=14)).astimezone(zone).date()
    last_day = window.end.astimezone(zone).date() + timedelta(days=2)
    spans: list[tuple[datetime, datetime]] = []
    day = floor_day
    while day <= last_day:
        for r in cal.rules:
            if r.weekday != day.weekday():
                continue
            if r.service_ids is not None and terms.service_id not in r.service_ids:
                continue
            if (r.valid_from and day < r.valid_from) or (r.valid_until and day > r.valid_until):
                continue
            a = datetime.combine(day, r.start, tzinfo=zone)
            if r.end == time(0):
                b = datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)
            else:
                b = datetime.combine(day, r.end, tzinfo=zone)
            if a.astimezone(UTC) < b.astimezone(UTC):
                spans.append((a.astimezone(UTC), b.astimezone(UTC)))
        day += timedelta(days=1)
    for extra in cal.extra_hours:
        if extra.service_ids is None or terms.service_id in extra.service_ids:
            spans.append((extra.period.start.astimezone(UTC), extra.period.end.astimezone(UTC)))
    merged: list[list[datetime]] = []
    for a, b in sorted(spans):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    floor_end = datetime.combine(floor_day + timedelta(days=1), time(0), tzinfo=zone)
    step = terms.interval or terms.duration + terms.buffer_before + terms.buffer_after
    found = []
    for a, b in merged:
        s = a
        while s + terms.duration <= b:
            session = Period(s, s + terms.duration)
            blocked = Period(s - terms.buffer_before, s + terms.duration + terms.buffer_after)
            if (
                window.start <= s < window.end
                and now + terms.min_notice <= s <= now + terms.horizon
                and not any(session.overlaps(p) for p in cal.time_off)
                and not any(blocked.overlaps(p) for p in cal.busy)
            ):
                if a < floor_end:
                    return None
                found.append(s)
            s += step
    return sorted(found)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_open_slots_matches_a_brute_force_reading_of_the_rules(
    scenario: tuple[ConsultantCalendar, ServiceTerms, Period, datetime],
) -> None:
    cal, terms, window, now = scenario
    expected = brute_force_starts(cal, terms, window, now)
    assume(expected is not None)
    assert starts(open_slots([cal], terms, window, now)) == expected


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenario=scenarios())
def test_every_offered_slot_lies_in_the_open_spans_of_its_service(
    scenario: tuple[ConsultantCalendar, ServiceTerms, Period, datetime],
) -> None:
    cal, terms, window, now = scenario
    wide = Period(window.start, window.end + terms.duration)
    spans = open_spans(cal, wide, service_id=terms.service_id)
    for a, b in pairwise(spans):
        assert a.start < a.end < b.start  # disjoint, sorted, not touching
    for slot in open_slots([cal], terms, window, now):
        assert any(p.start <= slot.start and slot.end <= p.end for p in spans)
