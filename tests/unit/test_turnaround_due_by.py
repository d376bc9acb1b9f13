"""due_by: the worked examples (weekends, closing times, holidays, other workdays) and
instants given in any zone."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from consults.turnaround import (
    add_business_time,
    business_time_between,
    due_by,
    resumed_due_by,
)
from tests.unit.turnaround_support import (
    LA,
    MINUS_8,
    SAT,
    SUN,
    THANKSGIVING,
    hours,
    hub,
    local,
    ny,
    utc,
)


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
