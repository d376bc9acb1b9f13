"""business_time_between counts only opening hours; a pause moves the due time by the
business time it covered."""

from __future__ import annotations

from datetime import timedelta

from consults.turnaround import (
    add_business_time,
    business_time_between,
    due_by,
    resumed_due_by,
)
from tests.unit.turnaround_support import hours, hub, ny, utc


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
