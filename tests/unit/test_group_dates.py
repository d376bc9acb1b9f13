"""When a group's occurrences fall: the counselor's wall-clock time, every week or two."""

from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from scheduling.groups import occurrence_starts, planned_starts
from scheduling.groups_schemas import GroupIn
from telehub.errors import ValidationFailed
from telehub.validation import validate

NEW_YORK = ZoneInfo("America/New_York")
PHOENIX = ZoneInfo("America/Phoenix")
TUESDAY_6PM = datetime(2027, 3, 2, 23, 0, tzinfo=UTC)  # 18:00 in New York


def _local(starts: list[datetime], zone: ZoneInfo) -> list[str]:
    return [s.astimezone(zone).strftime("%a %d %b %H:%M") for s in starts]


def test_a_weekly_group_keeps_its_wall_clock_time_when_new_york_moves_to_daylight_time() -> None:
    starts = occurrence_starts(TUESDAY_6PM, NEW_YORK, "weekly", count=3, until=None)

    assert _local(starts, NEW_YORK) == ["Tue 02 Mar 18:00", "Tue 09 Mar 18:00", "Tue 16 Mar 18:00"]
    assert [s.hour for s in starts] == [23, 23, 22]  # UTC moves by the hour instead


def test_a_counselor_in_phoenix_keeps_the_same_instant_all_year() -> None:
    first = datetime(2027, 3, 2, 1, 0, tzinfo=UTC)  # Monday 18:00 in Phoenix

    starts = occurrence_starts(first, PHOENIX, "weekly", count=3, until=None)

    assert [s.hour for s in starts] == [1, 1, 1]


def test_every_two_weeks_and_back_across_the_autumn_change() -> None:
    first = datetime(2027, 10, 26, 22, 0, tzinfo=UTC)  # Tuesday 18:00 EDT

    starts = occurrence_starts(first, NEW_YORK, "every_2_weeks", count=2, until=None)

    assert _local(starts, NEW_YORK) == ["Tue 26 Oct 18:00", "Tue 09 Nov 18:00"]
    assert starts[1].hour == 23


def test_once_is_one_occurrence_whatever_the_count() -> None:
    assert occurrence_starts(TUESDAY_6PM, NEW_YORK, "once", count=1, until=None) == [TUESDAY_6PM]


def test_until_counts_the_dates_in_the_counselors_zone() -> None:
    # 18:00 on 16 March in New York is already 17 March in UTC: still on or before the 16th.
    starts = occurrence_starts(TUESDAY_6PM, NEW_YORK, "weekly", count=None, until=date(2027, 3, 16))

    assert len(starts) == 3


def test_a_wall_clock_time_the_zone_skips_falls_an_hour_later() -> None:
    first = datetime(2027, 3, 7, 7, 30, tzinfo=UTC)  # Sunday 7 March 02:30 EST

    starts = occurrence_starts(first, NEW_YORK, "weekly", count=2, until=None)

    assert _local(starts, NEW_YORK) == ["Sun 07 Mar 02:30", "Sun 14 Mar 03:30"]


def _body(**over: object) -> GroupIn:
    values: dict[str, object] = {
        "service_id": 1,
        "consultant_id": 1,
        "title": "MOUD support group",
        "capacity": 8,
        "first_start": TUESDAY_6PM.isoformat(),
        "repeat": "weekly",
        "count": None,
        "until": "2027-03-16",
    }
    values.update(over)
    return validate(GroupIn, {k: v for k, v in values.items() if v is not None})


@pytest.mark.parametrize(
    ("until", "words"), [("2027-03-01", "before the first"), ("2028-12-31", "more than 52")]
)
def test_an_until_giving_no_occurrence_or_more_than_52_is_refused_naming_until(
    until: str, words: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        planned_starts(_body(until=until), NEW_YORK)

    assert [e.field for e in refused.value.errors] == ["until"]
    assert words in refused.value.errors[0].detail


@pytest.mark.parametrize(
    ("over", "field"),
    [
        ({"count": 3}, "count"),  # and until: exactly one
        ({"until": None}, "count"),  # neither
        ({"repeat": "once", "count": 2, "until": None}, "count"),
        ({"capacity": 1}, "capacity"),
        ({"capacity": 31}, "capacity"),
        ({"title": ""}, "title"),
        ({"title": "x" * 201}, "title"),
        ({"count": 53, "until": None}, "count"),
        ({"repeat": "monthly"}, "repeat"),
    ],
)
def test_a_group_that_cannot_be_is_refused_naming_the_field(
    over: dict[str, object], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _body(**over)

    assert field in [e.field for e in refused.value.errors]
