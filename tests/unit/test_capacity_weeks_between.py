"""The dashboard's weeks for a range of days: whole local weeks, cut to the chosen days."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduling.capacity import weeks_between
from scheduling.slots import Period

NEW_YORK = ZoneInfo("America/New_York")


def test_days_from_a_wednesday_to_the_next_tuesday_are_two_cut_weeks() -> None:
    assert weeks_between(date(2027, 3, 3), date(2027, 3, 9), NEW_YORK) == [
        Period(datetime(2027, 3, 3, 5, tzinfo=UTC), datetime(2027, 3, 8, 5, tzinfo=UTC)),
        # Daylight saving starts on Sunday 14 March: midnight of the 10th is still EST.
        Period(datetime(2027, 3, 8, 5, tzinfo=UTC), datetime(2027, 3, 10, 5, tzinfo=UTC)),
    ]


def test_whole_weeks_meet_end_to_end_across_a_daylight_saving_change() -> None:
    weeks = weeks_between(date(2027, 3, 8), date(2027, 3, 21), NEW_YORK)
    assert [w.end - w.start for w in weeks] == [
        datetime(2027, 3, 15, 4) - datetime(2027, 3, 8, 5),  # 167 hours
        datetime(2027, 3, 22, 4) - datetime(2027, 3, 15, 4),
    ]
    assert weeks[0].end == weeks[1].start


def test_a_range_ending_before_it_starts_is_a_mistake() -> None:
    with pytest.raises(ValueError):
        weeks_between(date(2027, 3, 9), date(2027, 3, 3), NEW_YORK)
