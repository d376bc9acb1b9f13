"""Stable FHIR ids: a Slot's id names its consultant, service and UTC start, and reads back."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from fhir_r4 import ids

FHIR_ID = re.compile(r"^[A-Za-z0-9\-\.]{1,64}$")


def test_a_slot_id_names_who_what_and_when_in_utc() -> None:
    start = datetime(2027, 3, 8, 9, 0, tzinfo=ZoneInfo("America/Los_Angeles"))

    made = ids.slot_id(12, 3, start)

    assert made == "12-3-20270308T170000Z"
    assert ids.parse_slot_id(made) == ids.SlotKey(12, 3, datetime(2027, 3, 8, 17, tzinfo=UTC))


def test_the_same_instant_in_any_zone_has_one_id() -> None:
    utc = datetime(2027, 11, 7, 9, 30, tzinfo=UTC)
    local = utc.astimezone(ZoneInfo("America/New_York"))

    assert ids.slot_id(1, 2, utc) == ids.slot_id(1, 2, local)


@pytest.mark.parametrize(
    "start",
    [
        datetime(2027, 1, 1, tzinfo=UTC),
        datetime(2027, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime(2027, 3, 14, 10, 0, tzinfo=ZoneInfo("America/Chicago")),  # the DST morning
    ],
)
def test_slot_ids_round_trip_and_are_valid_fhir_ids(start: datetime) -> None:
    made = ids.slot_id(2**62, 2**62, start)

    assert FHIR_ID.match(made)
    key = ids.parse_slot_id(made)
    assert key == ids.SlotKey(2**62, 2**62, start.astimezone(UTC))
    assert key is not None and ids.slot_id(key.consultant_id, key.service_id, key.start) == made


def test_a_naive_start_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        ids.slot_id(1, 2, datetime(2027, 3, 8, 17))


@pytest.mark.parametrize(
    "text",
    [
        "",
        "1-2",
        "1-2-20270308T170000",
        "1-2-20270308T170000z",
        "1-2-2027-03-08T17:00:00Z",
        "01-2-20270308T170000Z",  # one id per slot: no leading zeros
        "1-2-20271308T170000Z",  # no 13th month
        "1-2-20270230T170000Z",
        "1-2-20270308T250000Z",
        "a-2-20270308T170000Z",
        "1-2-20270308T170000Z-3",
        "-1-2-20270308T170000Z",
    ],
)
def test_a_malformed_slot_id_names_nothing(text: str) -> None:
    assert ids.parse_slot_id(text) is None


def test_schedule_and_organization_ids_round_trip() -> None:
    assert ids.schedule_id(7, 3) == "7-3"
    assert ids.parse_schedule_id("7-3") == ids.ScheduleKey(7, 3)
    assert ids.parse_schedule_id("7-3-20270308T170000Z") is None
    assert ids.parse_schedule_id("7") is None
    assert ids.organization_id(None) == "hub"
    assert ids.organization_id(5) == "clinic-5"
    assert ids.parse_organization_id("hub") == (True, None)
    assert ids.parse_organization_id("clinic-5") == (True, 5)
    assert ids.parse_organization_id("clinic-05") == (False, None)
    assert ids.parse_organization_id("spoke-5") == (False, None)
    assert ids.parse_number_id("42") == 42
    assert ids.parse_number_id("4.2") is None
    assert ids.parse_number_id("²") is None


def test_a_number_beyond_postgresql_bigint_is_no_id() -> None:
    too_big = str(2**63)
    assert ids.parse_number_id(str(2**63 - 1)) == 2**63 - 1
    assert ids.parse_number_id(too_big) is None
    assert ids.parse_schedule_id(f"{too_big}-1") is None
    assert ids.parse_slot_id(f"1-{too_big}-20270308T170000Z") is None
    assert ids.parse_organization_id(f"clinic-{too_big}") == (False, None)
