"""Unit tests for e-consult turnaround arithmetic: pure functions, no database."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consults.turnaround import (
    BusinessHours,
    add_business_time,
    business_time_between,
    due_by,
    resumed_due_by,
)

NY = ZoneInfo("America/New_York")
LA = ZoneInfo("America/Los_Angeles")
MINUS_8 = timezone(timedelta(hours=-8))
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)
THANKSGIVING = date(2026, 11, 26)


# --- small factories -------------------------------------------------------------------------


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(
    zone: ZoneInfo, year: int, month: int, day: int, hour: int = 0, minute: int = 0
) -> datetime:
    """An aware local datetime (fold=0)."""
    return datetime(year, month, day, hour, minute, tzinfo=zone)


def ny(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """An aware New York datetime (fold=0)."""
    return local(NY, year, month, day, hour, minute)


def hub(
    opens: str = "08:00", closes: str = "17:00", *, zone: ZoneInfo = NY, **kwargs: object
) -> BusinessHours:
    """Business hours from 'HH:MM' strings; Monday to Friday in New York unless told."""
    a, b = (time(int(t[:2]), int(t[3:])) for t in (opens, closes))
    return BusinessHours(zone, a, b, **kwargs)  # type: ignore[arg-type]


def hours(n: float) -> timedelta:
    """A timedelta of ``n`` hours."""
    return timedelta(hours=n)


# --- due_by: the worked examples -------------------------------------------------------------


def test_a_48_hour_e_consult_submitted_friday_afternoon_is_due_five_business_days_later() -> None:
    # Fri 16-17 = 1 h, then Mon 23 .. Fri 27 = 5 x 9 h = 45 h (46 in all), then Mon 30 08-10.
    due = due_by(hub(), ny(2026, 11, 20, 16), 48)
    assert due == ny(2026, 11, 30, 10)
    assert due == utc(2026, 11, 30, 15)


def test_a_4_hour_e_consult_submitted_friday_afternoon_is_due_monday_morning() -> None:
    assert due_by(hub(), ny(2026, 11, 20, 16), 4) == ny(2026, 11, 23, 11)


def test_a_submission_on_saturday_starts_the_clock_monday_at_opening() -> None:
    assert due_by(hub(), ny(2026, 11, 21, 10), 1) == ny(2026, 11, 23, 9)
    assert due_by(hub(), ny(2026, 11, 21, 10), 9) == ny(2026, 11, 23, 17)
    assert business_time_between(hub(), ny(2026, 11, 21, 10), ny(2026, 11, 23, 9)) == hours(1)


def test_a_submission_after_closing_starts_the_clock_at_the_next_opening() -> None:
    assert due_by(hub(), ny(2026, 11, 17, 20), 2) == ny(2026, 11, 18, 10)
    assert due_by(hub(), ny(2026, 11, 17, 6), 2) == ny(2026, 11, 17, 10)


def test_the_clock_runs_out_at_a_closing_time_not_the_next_opening() -> None:
    assert due_by(hub(), ny(2026, 11, 20, 16), 1) == ny(2026, 11, 20, 17)
    assert due_by(hub(), ny(2026, 11, 20, 8), 9) == ny(2026, 11, 20, 17)
    assert add_business_time(hub(), ny(2026, 11, 20, 17), hours(1)) == ny(2026, 11, 23, 9)


def test_a_zero_amount_returns_the_start_instant_even_outside_business_hours() -> None:
    saturday = ny(2026, 11, 21, 10)
    assert add_business_time(hub(), saturday, timedelta(0)) == saturday
    assert due_by(hub(), saturday, 0) == saturday


def test_a_holiday_is_skipped() -> None:
    # As above, but Thursday 26 is closed: Fri 27 and Mon 30 take its place, due Tue 1 Dec 10:00.
    with_holiday = hub(holidays=frozenset({THANKSGIVING}))
    assert due_by(with_holiday, ny(2026, 11, 20, 16), 48) == ny(2026, 12, 1, 10)
    assert due_by(with_holiday, ny(2026, 11, 25, 16), 2) == ny(2026, 11, 27, 9)
    assert business_time_between(with_holiday, ny(2026, 11, 26), ny(2026, 11, 27)) == hours(0)


def test_other_workdays_are_honoured() -> None:
    weekend_hub = hub("10:00", "14:00", workdays=frozenset({SAT, SUN}))
    assert due_by(weekend_hub, ny(2026, 11, 20, 16), 6) == ny(2026, 11, 22, 12)


def test_results_are_utc() -> None:
    assert due_by(hub(), ny(2026, 11, 20, 16), 4).tzinfo is UTC
    assert due_by(hub(), ny(2026, 11, 21, 16), 0).tzinfo is UTC
    assert add_business_time(hub(), ny(2026, 11, 20, 10), hours(1)).tzinfo is UTC
    paused_overdue = resumed_due_by(
        hub(), ny(2026, 11, 20, 10), ny(2026, 11, 20, 9), ny(2026, 11, 20, 11)
    )
    assert paused_overdue.tzinfo is UTC


# --- daylight saving -------------------------------------------------------------------------


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


# --- time zones of the inputs ----------------------------------------------------------------


def test_instants_in_another_zone_are_read_as_the_same_instants() -> None:
    # Fri 13:00 -08:00 is Fri 16:00 in New York; due Mon 11:00 EST = 16:00 UTC = 08:00 -08:00.
    submitted = datetime(2026, 11, 20, 13, tzinfo=MINUS_8)
    due = due_by(hub(), submitted, 4)
    assert due == utc(2026, 11, 23, 16)
    assert due.astimezone(MINUS_8) == datetime(2026, 11, 23, 8, tzinfo=MINUS_8)
    assert due_by(hub(), submitted, 48) == due_by(hub(), ny(2026, 11, 20, 16), 48)
    start = datetime(2026, 11, 20, 4, tzinfo=MINUS_8)  # 07:00 in New York, before opening
    assert business_time_between(hub(), start, submitted) == hours(8)


def test_a_hub_in_los_angeles_counts_its_own_business_hours() -> None:
    # Fri 16:00 in New York is 13:00 in Los Angeles: four hours of the Pacific working day left.
    assert due_by(hub(zone=LA), ny(2026, 11, 20, 16), 4) == local(LA, 2026, 11, 20, 17)
    assert due_by(hub(zone=LA), ny(2026, 11, 20, 16), 5) == local(LA, 2026, 11, 23, 9)


# --- business_time_between -------------------------------------------------------------------


def test_business_time_between_counts_only_opening_hours() -> None:
    h = hub()
    assert business_time_between(h, ny(2026, 11, 20, 16), ny(2026, 11, 23, 9)) == hours(2)
    assert business_time_between(h, ny(2026, 11, 16), ny(2026, 11, 23)) == hours(45)
    assert business_time_between(h, ny(2026, 11, 16, 9, 15), ny(2026, 11, 16, 9, 45)) == (
        timedelta(minutes=30)
    )
    assert business_time_between(h, ny(2026, 11, 21), ny(2026, 11, 23)) == hours(0)


def test_business_time_between_is_zero_when_the_end_is_not_after_the_start() -> None:
    assert business_time_between(hub(), ny(2026, 11, 20, 10), ny(2026, 11, 20, 10)) == hours(0)
    assert business_time_between(hub(), ny(2026, 11, 20, 12), ny(2026, 11, 20, 10)) == hours(0)


def test_a_whole_year_is_counted_quickly() -> None:
    # 2027 starts on a Friday and has 365 days: 52 weeks and a Friday, 261 weekdays of 9 hours.
    assert business_time_between(hub(), ny(2027, 1, 1), ny(2028, 1, 1)) == hours(261 * 9)
    assert add_business_time(hub(), ny(2027, 1, 1), hours(261 * 9)) == ny(2027, 12, 31, 17)


def test_a_720_hour_turnaround_lands_eighty_business_days_later() -> None:
    due = due_by(hub(), ny(2026, 11, 16, 8), 720)  # 720 / 9 = 80 weekdays from Monday 16 Nov
    assert due == ny(2027, 3, 5, 17)
    assert business_time_between(hub(), ny(2026, 11, 16, 8), due) == hours(720)


# --- pausing ---------------------------------------------------------------------------------


def test_a_pause_moves_the_due_time_by_the_business_time_it_covered() -> None:
    # Due Tue 12:00, paused Mon 10:00: Mon 10-17 = 7 h and Tue 08-12 = 4 h, 11 h left.
    # Resumed Wed 09:00: Wed 09-17 = 8 h, then Thu 08-11 = 3 h.
    due = resumed_due_by(hub(), ny(2026, 11, 16, 10), ny(2026, 11, 17, 12), ny(2026, 11, 18, 9))
    assert due == ny(2026, 11, 19, 11)
    assert due == utc(2026, 11, 19, 16)


def test_a_pause_over_a_weekend_shifts_only_by_the_business_time_paused() -> None:
    # Paused Fri 15:00 until Mon 09:00 covers Fri 15-17 and Mon 08-09: three business hours.
    due = resumed_due_by(hub(), ny(2026, 11, 20, 15), ny(2026, 11, 24, 12), ny(2026, 11, 23, 9))
    assert due == ny(2026, 11, 24, 15)


def test_a_pause_from_saturday_to_sunday_changes_nothing() -> None:
    due_at = ny(2026, 11, 24, 12)
    assert resumed_due_by(hub(), ny(2026, 11, 21, 9), due_at, ny(2026, 11, 22, 20)) == due_at


def test_an_e_consult_overdue_at_the_pause_is_due_again_at_the_resume() -> None:
    resumed = ny(2026, 11, 17, 9)
    assert resumed_due_by(hub(), ny(2026, 11, 16, 11), ny(2026, 11, 16, 10), resumed) == resumed
    # Due exactly at the pause: nothing left either.
    assert resumed_due_by(hub(), ny(2026, 11, 16, 10), ny(2026, 11, 16, 10), resumed) == resumed
    # Resumed on a Saturday: due at that instant, not at the next opening.
    saturday = ny(2026, 11, 21, 10)
    assert resumed_due_by(hub(), ny(2026, 11, 20, 11), ny(2026, 11, 20, 9), saturday) == saturday


def test_a_pause_ending_on_a_weekend_restarts_the_clock_at_the_next_opening() -> None:
    # Paused Fri 16:00 with 2 h left (due Mon 09:00), resumed Sunday: due Mon 10:00.
    due = resumed_due_by(hub(), ny(2026, 11, 20, 16), ny(2026, 11, 23, 9), ny(2026, 11, 22, 12))
    assert due == ny(2026, 11, 23, 10)


# --- guards ----------------------------------------------------------------------------------


def test_naive_datetimes_raise_value_error() -> None:
    h = hub()
    naive = datetime(2026, 11, 20, 16)
    aware = ny(2026, 11, 20, 16)
    with pytest.raises(ValueError, match="timezone-aware"):
        due_by(h, naive, 4)
    with pytest.raises(ValueError, match="timezone-aware"):
        add_business_time(h, naive, timedelta(0))
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(h, naive, aware)
    with pytest.raises(ValueError, match="timezone-aware"):
        business_time_between(h, aware, naive)
    for args in [(naive, aware, aware), (aware, naive, aware), (aware, aware, naive)]:
        with pytest.raises(ValueError, match="timezone-aware"):
            resumed_due_by(h, *args)


def test_negative_amounts_raise_value_error() -> None:
    with pytest.raises(ValueError, match="negative"):
        add_business_time(hub(), ny(2026, 11, 20, 16), -timedelta(microseconds=1))
    with pytest.raises(ValueError, match="negative"):
        due_by(hub(), ny(2026, 11, 20, 16), -1)


def test_a_resume_before_the_pause_raises_value_error() -> None:
    with pytest.raises(ValueError, match="before"):
        resumed_due_by(hub(), ny(2026, 11, 17, 10), ny(2026, 11, 18, 10), ny(2026, 11, 17, 9))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"opens": time(17), "closes": time(8)},
        {"opens": time(8), "closes": time(8)},
        {"opens": time(8, tzinfo=UTC), "closes": time(17)},
        {"workdays": frozenset()},
        {"workdays": frozenset({7})},
        {"workdays": frozenset({-1, 0})},
        {"holidays": frozenset({datetime(2026, 11, 26)})},
    ],
)
def test_invalid_business_hours_are_refused(kwargs: dict[str, object]) -> None:
    values: dict[str, object] = {"zone": NY, "opens": time(8), "closes": time(17), **kwargs}
    with pytest.raises(ValueError):
        BusinessHours(**values)  # type: ignore[arg-type]


def test_an_amount_that_needs_more_than_ten_years_raises_value_error() -> None:
    with pytest.raises(ValueError, match="not used up"):
        add_business_time(hub(), ny(2026, 11, 20, 16), hours(9 * 261 * 11))
    with pytest.raises(ValueError, match="not used up"):
        add_business_time(hub(), ny(2026, 11, 20, 16), timedelta.max)
    every_monday_a_holiday = hub(
        workdays=frozenset({MON}),
        holidays=frozenset(date(2026, 11, 23) + timedelta(weeks=k) for k in range(600)),
    )
    with pytest.raises(ValueError, match="not used up"):
        add_business_time(every_monday_a_holiday, ny(2026, 11, 20, 16), hours(1))


def test_instants_at_the_end_of_the_datetime_range_raise_value_error() -> None:
    end_of_time = datetime.max.replace(tzinfo=UTC)
    with pytest.raises(ValueError, match="range"):
        business_time_between(hub(), ny(9999, 12, 1), end_of_time)
    with pytest.raises(ValueError):
        add_business_time(hub(), ny(9999, 12, 30), hours(100))


# --- properties ------------------------------------------------------------------------------

ZONES = [NY, LA, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"),
         ZoneInfo("America/Havana"), ZoneInfo("Asia/Kolkata"),
         ZoneInfo("Pacific/Apia")]  # fmt: skip
# Days shortly before daylight-saving changes in one zone or another.
BASES = [utc(2027, 3, 11), utc(2026, 10, 29), utc(2027, 3, 25), utc(2026, 4, 2), utc(2026, 10, 1),
         utc(2011, 12, 27)]  # fmt: skip
MINUTE = timedelta(minutes=1)


@st.composite
def business_hours(draw: st.DrawFn, zones: list[ZoneInfo] = ZONES) -> BusinessHours:
    """Random hours on a quarter-hour grid in a zone with daylight saving, maybe with holidays."""
    opens = draw(st.integers(0, 94))
    closes = draw(st.integers(opens + 1, 95))
    base = draw(st.sampled_from(BASES)).date()
    holidays = draw(st.frozensets(st.integers(-10, 40).map(lambda k: base + timedelta(days=k))))
    return BusinessHours(
        zone=draw(st.sampled_from(zones)),
        opens=time(opens // 4, opens % 4 * 15),
        closes=time(closes // 4, closes % 4 * 15),
        workdays=draw(st.frozensets(st.integers(0, 6), min_size=1)),
        holidays=holidays,
    )


def instants() -> st.SearchStrategy[datetime]:
    """Random instants within a few weeks of a daylight-saving change, some in odd offsets."""
    return st.builds(
        lambda base, minutes, offset: (base + minutes * MINUTE).astimezone(
            timezone(timedelta(minutes=offset))
        ),
        st.sampled_from(BASES),
        st.integers(-3 * 1440, 20 * 1440),
        st.sampled_from([0, -480, 330, 600]),
    )


def capacity(h: BusinessHours) -> timedelta:
    """A safe lower bound on the business time within ten years (holidays and DST days off)."""
    day = datetime.combine(date.min, h.closes) - datetime.combine(date.min, h.opens)
    return (500 * len(h.workdays) - 100) * day


def amounts(h: BusinessHours) -> st.SearchStrategy[timedelta]:
    """Amounts up to 720 hours, fewer when the hub is rarely open; whole minutes or any."""
    most = min(hours(720), capacity(h))
    return st.integers(0, most // MINUTE).map(lambda m: m * MINUTE) | st.integers(
        0, most // timedelta(microseconds=1)
    ).map(lambda us: timedelta(microseconds=us))


def turnarounds(h: BusinessHours) -> st.SearchStrategy[int]:
    """Turnarounds in whole hours, up to 720, fewer when the hub is rarely open."""
    return st.integers(1, min(720, capacity(h) // hours(1)))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=business_hours(), start=instants(), data=st.data())
def test_the_time_added_is_the_business_time_between(
    h: BusinessHours, start: datetime, data: st.DataObject
) -> None:
    amount = data.draw(amounts(h))
    due = add_business_time(h, start, amount)
    assert due.tzinfo is UTC
    assert due >= start
    assert business_time_between(h, start, due) == amount
    if amount > timedelta(0):  # the earliest such instant: a moment earlier falls short
        assert business_time_between(h, start, due - timedelta(microseconds=1)) < amount


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=business_hours(), start=instants(), data=st.data())
def test_adding_more_time_never_gives_an_earlier_instant(
    h: BusinessHours, start: datetime, data: st.DataObject
) -> None:
    x, y = sorted([data.draw(amounts(h)), data.draw(amounts(h))])
    assert add_business_time(h, start, x) <= add_business_time(h, start, y)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=business_hours(), a=instants(), b=instants(), c=instants())
def test_business_time_between_is_additive_over_a_split_point(
    h: BusinessHours, a: datetime, b: datetime, c: datetime
) -> None:
    start, mid, end = sorted([a, b, c])
    whole = business_time_between(h, start, end)
    assert whole == business_time_between(h, start, mid) + business_time_between(h, mid, end)
    assert whole <= end - start
    assert business_time_between(h, end, start) == timedelta(0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(h=business_hours(), submitted=instants(), data=st.data())
def test_a_zero_length_pause_before_the_due_time_changes_nothing(
    h: BusinessHours, submitted: datetime, data: st.DataObject
) -> None:
    turnaround = data.draw(turnarounds(h))
    due_at = due_by(h, submitted, turnaround)
    elapsed = data.draw(st.integers(0, turnaround * 60 - 1)) * MINUTE
    paused = add_business_time(h, submitted, elapsed)  # inside business hours (or at a closing)
    assert resumed_due_by(h, paused, due_at, paused) == due_at


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=business_hours(),
    submitted=instants(),
    pause_after=st.integers(-2 * 1440, 30 * 1440),
    length=st.integers(0, 10 * 1440),
    data=st.data(),
)
def test_a_pause_resumes_with_exactly_the_business_time_that_was_left(
    h: BusinessHours, submitted: datetime, pause_after: int, length: int, data: st.DataObject
) -> None:
    turnaround = data.draw(turnarounds(h))
    pause = submitted + pause_after * MINUTE
    due_at = due_by(h, submitted, turnaround)
    resumed = pause + length * MINUTE
    new_due = resumed_due_by(h, pause, due_at, resumed)
    assert new_due >= resumed
    if due_at <= pause:
        assert new_due == resumed
    else:
        left = business_time_between(h, pause, due_at)
        assert business_time_between(h, resumed, new_due) == left
        paused_for = business_time_between(h, pause, resumed)
        # The due time moves by exactly the business time the pause covered.
        assert new_due >= due_at
        assert business_time_between(h, due_at, new_due) == paused_for
        assert (new_due == due_at) == (paused_for == timedelta(0))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=business_hours(),
    submitted=instants(),
    saturday=st.sampled_from([date(2026, 10, 31), date(2027, 3, 13), date(2026, 11, 21)]),
    into=st.integers(0, 2 * 1440 - 1),
    length=st.integers(0, 2 * 1440),
    data=st.data(),
)
def test_a_pause_entirely_outside_business_hours_leaves_the_due_time_unchanged(
    h: BusinessHours,
    submitted: datetime,
    saturday: date,
    into: int,
    length: int,
    data: st.DataObject,
) -> None:
    weekdays = BusinessHours(h.zone, h.opens, h.closes, frozenset(range(5)), h.holidays)
    turnaround = data.draw(turnarounds(weekdays))
    weekend_start = datetime.combine(saturday, time(0), tzinfo=h.zone)
    weekend_end = datetime.combine(saturday + timedelta(days=2), time(0), tzinfo=h.zone)
    paused = weekend_start + into * MINUTE
    resumed = min(paused + length * MINUTE, weekend_end)
    due_at = due_by(weekdays, submitted, turnaround)
    assume(due_at > paused)
    assert resumed_due_by(weekdays, paused, due_at, resumed) == due_at


def brute_force_minutes(h: BusinessHours, start: datetime, end: datetime) -> int:
    """Minutes ``m`` in [start, end) whose local wall-clock time is within opening hours."""
    count = 0
    instant = start
    while instant < end:
        wall = instant.astimezone(h.zone)
        if (
            wall.weekday() in h.workdays
            and wall.date() not in h.holidays
            and h.opens <= wall.time() < h.closes
        ):
            count += 1
        instant += MINUTE
    return count


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    h=business_hours([NY, LA, ZoneInfo("Europe/London"), ZoneInfo("Asia/Kolkata")]),
    start=instants(),
    length=st.integers(0, 4 * 1440),
)
def test_business_time_between_matches_reading_the_local_clock_minute_by_minute(
    h: BusinessHours, start: datetime, length: int
) -> None:
    # Away from the 01:00-03:00 local change hours the wall clock alone decides, minute by minute.
    assume(h.opens >= time(3) or h.closes <= time(1))
    start = start.replace(second=0, microsecond=0)
    end = start + length * MINUTE
    expected = brute_force_minutes(h, start, end) * MINUTE
    assert business_time_between(h, start, end) == expected
