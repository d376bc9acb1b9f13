"""Weekly ranges of one day may touch but not overlap (in the dates and services they cover)."""

from __future__ import annotations

from typing import Any

import pytest

from scheduling.schemas import AvailabilityIn
from telehub.errors import ValidationFailed
from telehub.validation import validate


def hours(*rules: dict[str, Any]) -> dict[str, Any]:
    return {"rules": list(rules)}


def monday(start: str, end: str, **more: Any) -> dict[str, Any]:
    return {"weekday": "monday", "start": start, "end": end, **more}


def test_overlapping_ranges_on_one_day_are_refused_at_the_later_range_naming_both() -> None:
    with pytest.raises(ValidationFailed) as refused:
        validate(AvailabilityIn, hours(monday("09:00", "12:00"), monday("11:00", "14:00")))

    [error] = refused.value.errors
    assert error.field == "rules.1.start"
    assert error.detail == (
        "Monday 11:00 to 14:00 overlaps Monday 09:00 to 12:00: ranges on one day must not overlap"
    )


def test_a_range_ending_at_midnight_overlaps_a_later_one_that_evening() -> None:
    with pytest.raises(ValidationFailed):
        validate(AvailabilityIn, hours(monday("21:00", "00:00"), monday("23:00", "23:30")))


@pytest.mark.parametrize(
    "rules",
    [
        (monday("09:00", "12:00"), monday("12:00", "15:00")),  # touching
        (monday("09:00", "12:00"), {"weekday": "tuesday", "start": "09:00", "end": "12:00"}),
        (
            monday("09:00", "12:00", valid_until="2027-03-31"),
            monday("10:00", "13:00", valid_from="2027-04-01"),
        ),
        (monday("09:00", "12:00", service_ids=[1]), monday("09:00", "12:00", service_ids=[2])),
    ],
    ids=["touching", "other days", "other dates", "other services"],
)
def test_ranges_that_do_not_claim_the_same_time_are_accepted(
    rules: tuple[dict[str, Any], ...],
) -> None:
    assert len(validate(AvailabilityIn, hours(*rules)).rules) == 2
