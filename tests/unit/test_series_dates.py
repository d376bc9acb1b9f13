"""When the sessions of a series fall: the clinic's wall-clock time, every week or two."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from scheduling.series import occurrence_starts, planned_starts
from scheduling.series_schemas import SeriesIn
from telehub.errors import ValidationFailed
from telehub.validation import validate

NEW_YORK = ZoneInfo("America/New_York")
MON_1_MARCH_10_NY = datetime(2027, 3, 1, 10, 0, tzinfo=NEW_YORK)


def _body(**fields: Any) -> SeriesIn:
    values: dict[str, Any] = dict(
        service_id=1,
        consultant_id=2,
        patient_id=str(uuid.uuid4()),
        first_start=MON_1_MARCH_10_NY.isoformat(),
        repeat="weekly",
        count=4,
    )
    values.update(fields)
    return validate(SeriesIn, {k: v for k, v in values.items() if v is not None})


def test_weekly_sessions_stay_at_ten_in_new_york_across_the_change_to_daylight_time() -> None:
    starts = occurrence_starts(MON_1_MARCH_10_NY, NEW_YORK, "weekly", count=4, until=None)

    assert [s.astimezone(NEW_YORK).strftime("%a %d %b %H:%M") for s in starts] == [
        "Mon 01 Mar 10:00",
        "Mon 08 Mar 10:00",
        "Mon 15 Mar 10:00",
        "Mon 22 Mar 10:00",
    ]
    # The instant moves an hour earlier in UTC once New York is on daylight time (14 March).
    assert [s.hour for s in starts] == [15, 15, 14, 14]
    assert all(s.tzinfo is UTC for s in starts)


def test_every_two_weeks_skips_a_week() -> None:
    starts = occurrence_starts(MON_1_MARCH_10_NY, NEW_YORK, "every_2_weeks", count=3, until=None)

    assert [s.astimezone(NEW_YORK).date() for s in starts] == [
        date(2027, 3, 1),
        date(2027, 3, 15),
        date(2027, 3, 29),
    ]


def test_until_includes_a_session_on_its_date_and_none_after() -> None:
    starts = occurrence_starts(
        MON_1_MARCH_10_NY, NEW_YORK, "weekly", count=None, until=date(2027, 3, 22)
    )

    assert len(starts) == 4
    assert starts[-1].astimezone(NEW_YORK).date() == date(2027, 3, 22)


def test_the_clinic_date_counts_for_until_not_the_utc_date() -> None:
    # 21:00 in New York is the next day in UTC; the clinic's date is what `until` means.
    late = datetime(2027, 3, 1, 21, 0, tzinfo=NEW_YORK)

    starts = occurrence_starts(late, NEW_YORK, "weekly", count=None, until=date(2027, 3, 8))

    assert len(starts) == 2


def test_overrides_replace_their_occurrence_only() -> None:
    moved = datetime(2027, 3, 9, 11, 0, tzinfo=NEW_YORK)

    starts = planned_starts(
        _body(overrides=[{"occurrence": 2, "start": moved.isoformat()}]), NEW_YORK
    )

    assert starts[1] == moved.astimezone(UTC)
    assert starts[2].astimezone(NEW_YORK) == datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK)


def test_until_before_the_first_session_names_until() -> None:
    with pytest.raises(ValidationFailed) as refused:
        planned_starts(_body(count=None, until="2027-02-28"), NEW_YORK)

    assert [e.field for e in refused.value.errors] == ["until"]


def test_until_giving_more_than_26_sessions_names_until() -> None:
    with pytest.raises(ValidationFailed) as refused:
        planned_starts(_body(count=None, until="2027-12-31"), NEW_YORK)

    assert [e.field for e in refused.value.errors] == ["until"]


def test_an_override_past_the_last_session_of_an_until_series_names_it() -> None:
    body = _body(
        count=None,
        until="2027-03-15",
        overrides=[{"occurrence": 4, "start": "2027-03-23T15:00:00Z"}],
    )

    with pytest.raises(ValidationFailed) as refused:
        planned_starts(body, NEW_YORK)

    assert [e.field for e in refused.value.errors] == ["overrides.0.occurrence"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"count": 27}, "count"),
        ({"count": 0}, "count"),
        ({"repeat": "daily"}, "repeat"),
        ({"count": 4, "until": "2027-04-01"}, "count"),
        ({"count": None}, "count"),
        ({"role": "telehealth_counselor"}, "consultant_id"),
        ({"consultant_id": None}, "consultant_id"),
        (
            {"overrides": [{"occurrence": 5, "start": "2027-03-30T14:00:00Z"}]},
            "overrides.0.occurrence",
        ),
        (
            {"overrides": [{"occurrence": 1, "start": "2027-03-02T15:00:00Z"}]},
            "overrides.0.occurrence",
        ),
        (
            {
                "overrides": [
                    {"occurrence": 2, "start": "2027-03-09T15:00:00Z"},
                    {"occurrence": 2, "start": "2027-03-10T15:00:00Z"},
                ]
            },
            "overrides.1.occurrence",
        ),
    ],
)
def test_a_series_that_cannot_be_is_refused_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationFailed) as refused:
        _body(**fields)

    assert [e.field for e in refused.value.errors] == [field]


def test_a_wall_clock_time_the_clinic_skips_that_day_falls_an_hour_later() -> None:
    sunday_half_past_two = datetime(2027, 3, 7, 2, 30, tzinfo=NEW_YORK)

    starts = occurrence_starts(sunday_half_past_two, NEW_YORK, "weekly", count=2, until=None)

    assert starts[1].astimezone(NEW_YORK).strftime("%d %H:%M") == "14 03:30"
