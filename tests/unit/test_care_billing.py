"""The billing thresholds at their boundaries, and the table being data, not code."""

from __future__ import annotations

from dataclasses import replace

import pytest

from care.billing import SCHEDULE, Billed, Threshold, codes
from care.billing_schemas import parse_month


def test_under_sixteen_minutes_supports_no_code() -> None:
    assert codes(15, first_month=True) == []
    assert codes(15, first_month=False) == []
    assert codes(0, first_month=False) == []


@pytest.mark.parametrize("first_month", [True, False])
def test_sixteen_minutes_support_g2214(first_month: bool) -> None:
    assert codes(16, first_month=first_month) == [Billed("G2214", 1)]


def test_first_month_needs_36_minutes_for_99492() -> None:
    assert codes(35, first_month=True) == [Billed("G2214", 1)]
    assert codes(36, first_month=True) == [Billed("99492", 1)]


def test_later_months_need_31_minutes_for_99493() -> None:
    assert codes(30, first_month=False) == [Billed("G2214", 1)]
    assert codes(31, first_month=False) == [Billed("99493", 1)]


def test_the_same_minutes_bill_differently_in_the_first_month_and_later() -> None:
    assert codes(33, first_month=True) == [Billed("G2214", 1)]
    assert codes(33, first_month=False) == [Billed("99493", 1)]
    assert codes(80, first_month=True) == [Billed("99492", 1)]
    assert codes(80, first_month=False) == [Billed("99493", 1), Billed("99494", 1)]


def test_99494_units_beyond_the_first_months_70_minutes() -> None:
    assert codes(70 + 15, first_month=True) == [Billed("99492", 1)]
    assert codes(70 + 16, first_month=True) == [Billed("99492", 1), Billed("99494", 1)]
    assert codes(70 + 45, first_month=True) == [Billed("99492", 1), Billed("99494", 1)]
    assert codes(70 + 46, first_month=True) == [Billed("99492", 1), Billed("99494", 2)]


def test_99494_units_beyond_a_later_months_60_minutes() -> None:
    assert codes(60 + 15, first_month=False) == [Billed("99493", 1)]
    assert codes(60 + 16, first_month=False) == [Billed("99493", 1), Billed("99494", 1)]
    assert codes(60 + 45, first_month=False) == [Billed("99493", 1), Billed("99494", 1)]
    assert codes(60 + 46, first_month=False) == [Billed("99493", 1), Billed("99494", 2)]
    assert codes(60 + 76, first_month=False) == [Billed("99493", 1), Billed("99494", 3)]


def test_the_thresholds_are_data_a_changed_table_changes_the_codes() -> None:
    stricter = replace(
        SCHEDULE,
        later_month=Threshold("X-MAIN", minutes=90, supported_from=50),
        add_on=Threshold("X-ADD", minutes=20, supported_from=11),
        fallback=Threshold("X-LOW", minutes=30, supported_from=20),
    )
    assert codes(31, first_month=False) == [Billed("99493", 1)]
    assert codes(31, first_month=False, schedule=stricter) == [Billed("X-LOW", 1)]
    assert codes(19, first_month=False, schedule=stricter) == []
    assert codes(50, first_month=False, schedule=stricter) == [Billed("X-MAIN", 1)]
    assert codes(90 + 11, first_month=False, schedule=stricter) == [
        Billed("X-MAIN", 1),
        Billed("X-ADD", 1),
    ]
    assert codes(90 + 31, first_month=False, schedule=stricter) == [
        Billed("X-MAIN", 1),
        Billed("X-ADD", 2),
    ]


def test_the_table_holds_the_fee_schedules_numbers() -> None:
    assert SCHEDULE.first_month == Threshold("99492", 70, 36)
    assert SCHEDULE.later_month == Threshold("99493", 60, 31)
    assert SCHEDULE.add_on == Threshold("99494", 30, 16)
    assert SCHEDULE.fallback == Threshold("G2214", 30, 16)


@pytest.mark.parametrize(
    "text", ["2027-1", "2027-13", "2027-00", "0000-05", "27-01", "2027/01", ""]
)
def test_a_month_is_yyyy_mm(text: str) -> None:
    with pytest.raises(ValueError):
        parse_month(text)


def test_a_month_reads_as_its_first_day() -> None:
    assert parse_month("2027-01").isoformat() == "2027-01-01"
    assert parse_month("2026-12").isoformat() == "2026-12-01"
