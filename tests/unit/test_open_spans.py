"""open_spans: the slot engine's expansion of hours and exceptions, as capacity reads it."""

from __future__ import annotations

from datetime import datetime

import pytest

from scheduling.slots import (
    ExtraHours,
    Period,
    open_spans,
)
from tests.unit.slots_support import (
    LA,
    MON,
    NY,
    SAT,
    SUN,
    calendar,
    day_window,
    local,
    period,
    rule,
    utc,
)


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
