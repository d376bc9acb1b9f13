"""Slots of many consultants, is_open_slot, and the engine's guards (naive datetimes,
invalid terms) and value types."""

from __future__ import annotations

from datetime import datetime

import pytest

from scheduling.slots import Period, is_open_slot, open_slots
from tests.unit.slots_support import (
    LA,
    MON,
    NY,
    calendar,
    day_window,
    local,
    local_times,
    period,
    rule,
    service,
    utc,
)


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
