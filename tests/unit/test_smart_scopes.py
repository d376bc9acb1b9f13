"""The one table from SMART v2 system scopes to telehub's scopes (telehub/auth.py)."""

from __future__ import annotations

import pytest

from telehub.auth import ALL_SCOPES, KIND_SCOPES, SMART_SCOPES, smart_scope_needs, smart_scopes_for


@pytest.mark.parametrize(
    ("scope", "needs"),
    [
        ("system/Slot.rs", {"slots:read"}),
        ("system/Slot.r", {"slots:read"}),
        ("system/Schedule.rs", {"slots:read"}),
        ("system/Appointment.rs", {"bookings:read"}),
        ("system/Appointment.c", {"bookings:write"}),
        ("system/Appointment.cruds", {"bookings:read", "bookings:write"}),
        ("system/Patient.rs", {"patients:read"}),
        ("system/DocumentReference.rs", {"notes:read"}),
        ("system/ServiceRequest.rs", {"econsults:read"}),
        ("system/Task.s", {"econsults:read"}),
        ("system/Practitioner.rs", {"consultants:read"}),
        ("system/PractitionerRole.rs", {"consultants:read"}),
        ("system/HealthcareService.rs", {"services:read"}),
        ("system/Organization.rs", {"services:read"}),
        # SMART v1 spellings
        ("system/Slot.read", {"slots:read"}),
        ("system/Appointment.read", {"bookings:read"}),
        ("system/Appointment.write", {"bookings:write"}),
        ("system/Appointment.*", {"bookings:read", "bookings:write"}),
        ("system/Slot.*", {"slots:read"}),
    ],
)
def test_a_smart_scope_needs_the_telehub_scopes_of_its_permissions(
    scope: str, needs: set[str]
) -> None:
    assert smart_scope_needs(scope) == needs


@pytest.mark.parametrize(
    "scope",
    [
        "system/Slot.c",  # slots are computed, never created
        "system/Slot.write",
        "system/Patient.d",
        "system/Slot.sr",  # v2 letters come in the order c r u d s
        "system/Slot.rrs",
        "system/Slot.",
        "system/Slot",
        "system/Observation.rs",  # not a resource telehub serves
        "system/*.rs",
        "patient/Slot.rs",  # no patient or user launch context: Backend Services only
        "user/Appointment.cruds",
        "system/Slot.rs?start=ge2026-01-01",
        "slots:read",  # telehub's own scope is not a SMART one
        "",
    ],
)
def test_anything_else_is_not_a_smart_scope_telehub_offers(scope: str) -> None:
    assert smart_scope_needs(scope) is None


def test_every_mapped_scope_is_a_telehub_scope() -> None:
    for table in SMART_SCOPES.values():
        assert set(table) <= set("cruds")
        assert set(table.values()) <= ALL_SCOPES


def test_a_clinic_is_offered_every_resource_and_full_appointment_rights() -> None:
    offered = smart_scopes_for(KIND_SCOPES["spoke"])
    assert "system/Appointment.cruds" in offered
    assert "system/Slot.rs" in offered and "system/Patient.rs" in offered
    assert len(offered) == len(SMART_SCOPES)
    for scope in offered:
        needs = smart_scope_needs(scope)
        assert needs is not None and needs <= KIND_SCOPES["spoke"]


def test_a_hub_system_is_not_offered_the_clinic_only_patient_scope() -> None:
    offered = smart_scopes_for(KIND_SCOPES["hub_admin"])
    assert "system/Patient.rs" not in offered
    assert "system/Slot.rs" in offered


def test_a_client_with_slot_reading_only_is_offered_slot_and_schedule_reads() -> None:
    assert smart_scopes_for(frozenset({"slots:read"})) == ["system/Slot.rs", "system/Schedule.rs"]
    assert smart_scopes_for(frozenset({"bookings:write"})) == ["system/Appointment.cud"]
