"""Properties of the slot engine over random calendars in zones with daylight saving:
is_open_slot agrees with open_slots, sub-windows agree, a brute-force reading matches."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from scheduling.slots import (
    ConsultantCalendar,
    ExtraHours,
    Period,
    ServiceTerms,
    WeeklyRule,
    is_open_slot,
    open_slots,
    open_spans,
)
from tests.unit.slots_support import LA, NY, starts, utc

ZONES = [NY, LA, ZoneInfo("Europe/London"), ZoneInfo("Australia/Lord_Howe"),
         ZoneInfo("America/Havana"), ZoneInfo("Asia/Kolkata")]  # fmt: skip
# Days shortly before daylight-saving changes in one zone or another.
BASES = [utc(2027, 3, 11), utc(2026, 10, 29), utc(2027, 3, 25), utc(2026, 4, 2), utc(2026, 10, 1)]
QUARTER = timedelta(minutes=15)


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
