"""Which slots may be offered at all: minimum notice, the past, the horizon, and the
consultant's licence in the patient's state."""

from __future__ import annotations

from datetime import timedelta

from scheduling.slots import ConsultantCalendar, is_open_slot, open_slots
from tests.unit.slots_support import (
    MON,
    NY,
    calendar,
    day_window,
    local,
    local_times,
    period,
    rule,
    service,
    utc,
)


def test_slots_closer_than_the_minimum_notice_are_not_offered() -> None:
    cal = calendar(rule(MON, "09:00", "13:00"))
    now = local(NY, 2027, 3, 8, 8, 10)
    slots = open_slots([cal], service(60, min_notice=120), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(slots, NY)] == ["11:00", "12:00"]
    exactly = open_slots([cal], service(60, min_notice=170), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(exactly, NY)] == ["11:00", "12:00"]


def test_slots_in_the_past_are_not_offered() -> None:
    cal = calendar(rule(MON, "09:00", "13:00"))
    now = local(NY, 2027, 3, 8, 10, 30)
    slots = open_slots([cal], service(60), day_window(NY, 2027, 3, 8), now)
    assert [t[-5:] for t in local_times(slots, NY)] == ["11:00", "12:00"]


def test_slots_beyond_the_horizon_are_not_offered_and_the_horizon_itself_is() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    now = local(NY, 2027, 3, 1, 10)
    terms = service(60, horizon=timedelta(days=7))
    slots = open_slots([cal], terms, day_window(NY, 2027, 3, 1, days=14), now)
    assert local_times(slots, NY) == [
        "2027-03-01 10:00", "2027-03-01 11:00", "2027-03-08 09:00", "2027-03-08 10:00"
    ]  # fmt: skip


def test_empty_or_past_window_offers_nothing() -> None:
    cal = calendar(rule(MON, "09:00", "12:00"))
    terms = service(60)
    assert open_slots([cal], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 10)) == []
    empty = period(local(NY, 2027, 3, 8, 9), local(NY, 2027, 3, 8, 9))
    assert open_slots([cal], terms, empty, now=utc(2027, 3, 1)) == []
    assert open_slots([], terms, day_window(NY, 2027, 3, 8), now=utc(2027, 3, 1)) == []


# --- licensing -------------------------------------------------------------------------------


def _licensed_calendar() -> ConsultantCalendar:
    return calendar(rule(MON, "09:00", "10:00"), licensed_states=frozenset({"NY", "NJ"}))


def test_video_session_is_not_offered_to_a_patient_in_an_unlicensed_state() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    assert open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1), "CA") == []


def test_video_session_is_offered_to_a_patient_in_a_licensed_state() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    slots = open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1), "NJ")
    assert local_times(slots, NY) == ["2027-03-08 09:00"]


def test_services_without_license_requirement_ignore_the_patient_state() -> None:
    window = day_window(NY, 2027, 3, 8)
    for state in ("CA", "NY", None):
        slots = open_slots([_licensed_calendar()], service(60), window, utc(2027, 3, 1), state)
        assert len(slots) == 1


def test_video_session_without_a_patient_state_offers_nothing() -> None:
    terms = service(60, requires_license=True)
    window = day_window(NY, 2027, 3, 8)
    assert open_slots([_licensed_calendar()], terms, window, utc(2027, 3, 1)) == []
    assert not is_open_slot(_licensed_calendar(), terms, local(NY, 2027, 3, 8, 9), utc(2027, 3, 1))


def test_licensing_filters_consultants_individually() -> None:
    terms = service(60, requires_license=True)
    ny_only = calendar(
        rule(MON, "09:00", "10:00"), consultant_id=1, licensed_states=frozenset({"NY"})
    )
    ca_only = calendar(
        rule(MON, "09:00", "10:00"), consultant_id=2, licensed_states=frozenset({"CA"})
    )
    slots = open_slots([ny_only, ca_only], terms, day_window(NY, 2027, 3, 8), utc(2027, 3, 1), "CA")
    assert [s.consultant_id for s in slots] == [2]
