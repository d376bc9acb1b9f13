"""Properties of turnaround arithmetic over random business hours in zones with daylight
saving, one against a minute-by-minute reading of the local clock."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from consults.turnaround import (
    BusinessHours,
    add_business_time,
    business_time_between,
    due_by,
    resumed_due_by,
)
from tests.unit.turnaround_support import LA, NY, hours, utc

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
