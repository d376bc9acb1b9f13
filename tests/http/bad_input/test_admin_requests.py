"""Bad patient, availability, service and consultant requests get a 4xx problem naming the
field, and change nothing."""

from __future__ import annotations

from dataclasses import replace

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.http.bad_input.support import (
    DROP,
    MALFORMED,
    MAX_BODY,
    OVERSIZE,
    UNKNOWN_ID,
    Bad,
    World,
    assert_refused_and_nothing_changed,
    availability,
    consultant,
    exception,
    not_found,
    padded_patient,
    patient,
    raw,
    rule,
    service,
)

ADMIN_CASES = [
    # POST /api/v1/patients
    pytest.param(
        raw("POST", "/api/v1/patients", 400, "bad-request", "body", b"{mrn: 1}"),
        id="patient-malformed-json",
    ),
    pytest.param(patient(422, "validation", "mrn", mrn=DROP), id="patient-missing-mrn"),
    pytest.param(patient(422, "validation", "state", state="ZZ"), id="patient-unknown-state"),
    pytest.param(
        patient(422, "validation", "birth_date", birth_date="2100-01-01"), id="patient-born-in-2100"
    ),
    pytest.param(patient(422, "validation", "email", email="not-an-email"), id="patient-bad-email"),
    pytest.param(patient(422, "validation", "ssn", ssn="123-45-6789"), id="patient-unknown-field"),
    pytest.param(
        replace(patient(413, "payload-too-large", notes=OVERSIZE), detail_has="262144"),
        id="patient-oversize",
    ),
    pytest.param(
        raw("POST", "/api/v1/patients", 422, "validation", "pad", padded_patient(MAX_BODY)),
        id="patient-body-of-exactly-256-KiB-is-read",
    ),
    pytest.param(
        replace(
            raw(
                "POST",
                "/api/v1/patients",
                413,
                "payload-too-large",
                "",
                padded_patient(MAX_BODY + 1),
            ),
            fields=(),
            detail_has="262144",
        ),
        id="patient-body-one-byte-over-256-KiB",
    ),
    # PUT /api/v1/consultants/{id}/availability
    pytest.param(
        availability(422, "validation", "rules", rules=DROP), id="availability-missing-rules"
    ),
    pytest.param(
        availability(422, "validation", "rules.0.end", rules=rule(start="12:00", end="09:00")),
        id="availability-rule-end-before-start",
    ),
    pytest.param(
        availability(422, "validation", "rules.0.weekday", rules=rule(weekday="funday")),
        id="availability-rule-unknown-weekday",
    ),
    pytest.param(
        availability(
            422,
            "validation",
            "rules.0.service_ids",
            rules=lambda w: rule(service_ids=[w.other_service_id])(w),
        ),
        id="availability-rule-service-not-offered",
    ),
    pytest.param(
        availability(
            422, "validation", "exceptions.0.end", exceptions=exception(end="2027-03-01T00:00:00Z")
        ),
        id="availability-exception-end-before-start",
    ),
    pytest.param(
        availability(
            422, "validation", "exceptions.0.start", exceptions=exception(start="2027-03-08T00:00")
        ),
        id="availability-exception-naive-start",
    ),
    pytest.param(
        not_found(
            f"/api/v1/consultants/{UNKNOWN_ID}/availability", availability(0, ""), "consultant"
        ),
        id="availability-unknown-consultant",
    ),
    pytest.param(
        not_found("/api/v1/consultants/abc/availability", availability(0, ""), "id"),
        id="availability-non-numeric-id-in-path",
    ),
    # POST /api/v1/services
    pytest.param(service("kind", kind="house_call"), id="service-unknown-kind"),
    pytest.param(service("duration_minutes", duration_minutes=1), id="service-one-minute-long"),
    pytest.param(service("roles", roles=DROP), id="service-missing-roles"),
    pytest.param(
        service("turnaround_hours", kind="econsult"), id="service-econsult-without-turnaround"
    ),
    pytest.param(
        raw(
            "POST",
            "/api/v1/services",
            415,
            "unsupported-media-type",
            "Content-Type",
            b"<service/>",
            content_type="application/xml",
            as_admin=True,
        ),
        id="service-xml-body",
    ),
    # POST /api/v1/consultants
    pytest.param(
        consultant("timezone", timezone="Mars/Olympus_Mons"), id="consultant-bad-time-zone"
    ),
    pytest.param(
        consultant("licensed_states.1", licensed_states=["VT", "XX"]), id="consultant-bad-state"
    ),
    pytest.param(
        consultant("service_ids.0", service_ids=[UNKNOWN_ID]), id="consultant-unknown-service"
    ),
    pytest.param(
        consultant(
            "service_ids.0", role="peer_recovery_specialist", service_ids=lambda w: [w.service_id]
        ),
        id="consultant-role-may-not-deliver-the-service",
    ),
    pytest.param(
        raw("POST", "/api/v1/consultants", 400, "bad-request", "body", MALFORMED, as_admin=True),
        id="consultant-malformed-json",
    ),
]


@pytest.mark.parametrize("case", ADMIN_CASES)
async def test_bad_request_gets_a_problem_naming_the_field_and_writes_nothing(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    await assert_refused_and_nothing_changed(client, conn, world, case)
