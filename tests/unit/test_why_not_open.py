"""Why a time is not an open slot: one reason, the same one the page shows and the write refuses."""

from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from scheduling.slots import (
    Closed,
    ConsultantCalendar,
    Period,
    ServiceTerms,
    WeeklyRule,
    is_open_slot,
    why_not_open,
)

LA = ZoneInfo("America/Los_Angeles")
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # Mon 1 Mar 2027, 07:00 in Los Angeles
MONDAY_NEXT_WEEK = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)  # 09:00 in Los Angeles


def hour() -> ServiceTerms:
    """An hour-long video session on the hour, booked a day ahead, up to 30 days out."""
    return ServiceTerms(
        1,
        timedelta(hours=1),
        min_notice=timedelta(hours=24),
        horizon=timedelta(days=30),
        requires_license=True,
    )


def calendar(**changes: object) -> ConsultantCalendar:
    """A Los Angeles consultant licensed in NY and CA, working Mondays 09:00-12:00."""
    values: dict[str, object] = {
        "consultant_id": 7,
        "zone": LA,
        "rules": (WeeklyRule(0, time(9), time(12)),),
        "licensed_states": frozenset({"NY", "CA"}),
    }
    values.update(changes)
    return ConsultantCalendar(**values)  # type: ignore[arg-type]


def test_an_open_slot_has_no_reason() -> None:
    assert is_open_slot(calendar(), hour(), MONDAY_NEXT_WEEK, NOW, "NY")
    assert why_not_open(calendar(), hour(), MONDAY_NEXT_WEEK, NOW, "NY") is None


def test_a_time_already_past_is_in_the_past() -> None:
    last_monday = MONDAY_NEXT_WEEK - timedelta(days=14)
    assert why_not_open(calendar(), hour(), last_monday, NOW, "NY") is Closed.PAST


def test_a_time_inside_the_minimum_notice_is_too_soon() -> None:
    this_afternoon = datetime(2027, 3, 1, 19, 0, tzinfo=UTC)  # 11:00 in LA, 4 hours ahead
    assert why_not_open(calendar(), hour(), this_afternoon, NOW, "NY") is Closed.TOO_SOON


def test_a_time_beyond_the_horizon_is_past_the_horizon() -> None:
    in_five_weeks = MONDAY_NEXT_WEEK + timedelta(days=28)
    late = why_not_open(calendar(), hour(), in_five_weeks, NOW, "NY")
    assert late is Closed.PAST_HORIZON


def test_a_patient_where_the_consultant_holds_no_license_is_not_licensed() -> None:
    assert why_not_open(calendar(), hour(), MONDAY_NEXT_WEEK, NOW, "TX") is Closed.NOT_LICENSED
    assert why_not_open(calendar(), hour(), MONDAY_NEXT_WEEK, NOW, None) is Closed.NOT_LICENSED


def test_a_service_without_license_ignores_the_patients_state() -> None:
    review = ServiceTerms(1, timedelta(hours=1))
    assert why_not_open(calendar(), review, MONDAY_NEXT_WEEK, NOW, "TX") is None


def test_a_tuesday_is_outside_the_consultants_hours() -> None:
    tuesday = MONDAY_NEXT_WEEK + timedelta(days=1)
    assert why_not_open(calendar(), hour(), tuesday, NOW, "NY") is Closed.OUTSIDE_HOURS


def test_a_session_running_past_the_end_of_the_day_is_outside_the_hours() -> None:
    half_past_eleven = MONDAY_NEXT_WEEK + timedelta(hours=2, minutes=30)
    assert why_not_open(calendar(), hour(), half_past_eleven, NOW, "NY") is Closed.OUTSIDE_HOURS


def test_half_past_within_the_hours_is_not_a_start_time() -> None:
    half_past_nine = MONDAY_NEXT_WEEK + timedelta(minutes=30)
    assert why_not_open(calendar(), hour(), half_past_nine, NOW, "NY") is Closed.NOT_A_START


def test_time_off_over_the_session_is_time_off() -> None:
    away = calendar(time_off=(Period(MONDAY_NEXT_WEEK, MONDAY_NEXT_WEEK + timedelta(days=1)),))
    assert why_not_open(away, hour(), MONDAY_NEXT_WEEK, NOW, "NY") is Closed.TIME_OFF


def test_another_booking_over_the_session_is_taken() -> None:
    busy = calendar(busy=(Period(MONDAY_NEXT_WEEK, MONDAY_NEXT_WEEK + timedelta(hours=1)),))
    assert why_not_open(busy, hour(), MONDAY_NEXT_WEEK, NOW, "NY") is Closed.TAKEN


@pytest.mark.parametrize("hours_ahead", range(0, 24 * 40, 5))
def test_there_is_a_reason_exactly_when_the_slot_is_not_open(hours_ahead: int) -> None:
    busy = calendar(busy=(Period(MONDAY_NEXT_WEEK, MONDAY_NEXT_WEEK + timedelta(hours=1)),))
    start = NOW + timedelta(hours=hours_ahead)
    is_open = is_open_slot(busy, hour(), start, NOW, "NY")
    assert (why_not_open(busy, hour(), start, NOW, "NY") is None) == is_open


def test_the_reason_needs_aware_times() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        why_not_open(calendar(), hour(), MONDAY_NEXT_WEEK.replace(tzinfo=None), NOW, "NY")
