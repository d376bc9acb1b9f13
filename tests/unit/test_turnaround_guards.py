"""Turnaround arithmetic refuses naive datetimes, negative amounts, invalid hours and
instants beyond its range."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from consults.turnaround import (
    BusinessHours,
    add_business_time,
    business_time_between,
    due_by,
    resumed_due_by,
)
from tests.unit.turnaround_support import MON, NY, hours, hub, ny


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
