"""Bad booking, reschedule, cancel and slot requests get a 4xx problem naming the field,
and change nothing."""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.http.bad_input.support import (
    BEYOND_HORIZON,
    BOOKINGS,
    CANCEL,
    DROP,
    FORM,
    HALF_PAST,
    KEY,
    LAST_WEEK,
    MALFORMED,
    OPEN,
    OVERSIZE,
    RESCHEDULE,
    TUESDAY,
    UNKNOWN_ID,
    Bad,
    World,
    assert_refused_and_nothing_changed,
    booking,
    cancel,
    not_found,
    raw,
    reschedule,
    send,
    slots,
    start_twice,
)
from tests.http.problems import problem_of

BOOKING_CASES = [
    # POST /api/v1/bookings: bodies that cannot be read
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", MALFORMED, idempotency_key=KEY),
        id="booking-malformed-json",
    ),
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", b"[]", idempotency_key=KEY),
        id="booking-json-array",
    ),
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", b"null", idempotency_key=KEY),
        id="booking-json-null",
    ),
    pytest.param(
        raw(
            "POST",
            BOOKINGS,
            415,
            "unsupported-media-type",
            "Content-Type",
            b"service_id=1&consultant_id=1",
            content_type=FORM,
            idempotency_key=KEY,
        ),
        id="booking-form-encoded",
    ),
    pytest.param(
        replace(booking(413, "payload-too-large", reason=OVERSIZE), detail_has="262144"),
        id="booking-oversize",
    ),
    # POST /api/v1/bookings: fields
    *(
        pytest.param(booking(422, "validation", name, **{name: DROP}), id=f"booking-missing-{name}")
        for name in ("service_id", "consultant_id", "patient_id", "start")
    ),
    pytest.param(booking(422, "validation", "notes", notes="hi"), id="booking-unknown-field"),
    pytest.param(
        booking(422, "validation", "start", start="2027-03-08T09:00:00"), id="booking-naive-start"
    ),
    pytest.param(
        booking(422, "validation", "start", start="next monday"), id="booking-unreadable-start"
    ),
    pytest.param(
        booking(422, "validation", "patient_id", patient_id="12345"),
        id="booking-patient-id-not-a-uuid",
    ),
    pytest.param(
        booking(422, "validation", "service_id", service_id=0), id="booking-service-id-zero"
    ),
    pytest.param(
        booking(422, "validation", "reason", reason="r" * 2001), id="booking-reason-too-long"
    ),
    pytest.param(
        replace(booking(400, "bad-request", "Idempotency-Key"), idempotency_key=None),
        id="booking-without-idempotency-key",
    ),
    pytest.param(
        replace(booking(400, "bad-request", "Idempotency-Key"), idempotency_key="has spaces"),
        id="booking-malformed-idempotency-key",
    ),
    # POST /api/v1/bookings: ids and times the booking rules refuse
    pytest.param(
        (booking(422, "validation", "service_id", service_id=UNKNOWN_ID)),
        id="booking-unknown-service",
    ),
    pytest.param(
        (booking(422, "validation", "consultant_id", consultant_id=UNKNOWN_ID)),
        id="booking-unknown-consultant",
    ),
    pytest.param(
        (booking(422, "validation", "consultant_id", service_id=lambda w: w.other_service_id)),
        id="booking-service-the-consultant-does-not-offer",
    ),
    pytest.param(
        (booking(422, "validation", "patient_id", patient_id=str(uuid.uuid4()))),
        id="booking-unknown-patient",
    ),
    pytest.param(
        (booking(422, "validation", "patient_id", patient_id=lambda w: w.stranger_id)),
        id="booking-patient-of-another-spoke",
    ),
    pytest.param(
        (booking(422, "not-an-open-slot", "start", start=HALF_PAST)), id="booking-at-0930"
    ),
    pytest.param(
        (booking(422, "not-an-open-slot", "start", start=TUESDAY)), id="booking-on-a-tuesday"
    ),
    pytest.param(
        (booking(422, "not-an-open-slot", "start", start=LAST_WEEK)),
        id="booking-in-the-past",
    ),
    pytest.param(
        (
            booking(
                422,
                "not-an-open-slot",
                "start",
                service_id=lambda w: w.short_service_id,
                start=BEYOND_HORIZON,
            )
        ),
        id="booking-beyond-the-horizon",
    ),
    # POST /api/v1/bookings/{id}/reschedule
    pytest.param(
        raw("POST", RESCHEDULE, 400, "bad-request", "body", MALFORMED),
        id="reschedule-malformed-json",
    ),
    pytest.param(
        raw("POST", RESCHEDULE, 400, "bad-request", "body", b'["x"]'), id="reschedule-json-array"
    ),
    pytest.param(reschedule(422, "validation", "start", start=DROP), id="reschedule-missing-start"),
    pytest.param(
        reschedule(422, "validation", "start", start="2027-03-08T09:00:00"),
        id="reschedule-naive-start",
    ),
    pytest.param(reschedule(422, "validation", "when", when=OPEN), id="reschedule-unknown-field"),
    pytest.param(
        reschedule(422, "not-an-open-slot", "start", start=HALF_PAST), id="reschedule-to-0930"
    ),
    pytest.param(
        reschedule(422, "not-an-open-slot", "start", start=LAST_WEEK), id="reschedule-to-the-past"
    ),
    pytest.param(
        reschedule(422, "validation", "consultant_id", consultant_id=UNKNOWN_ID),
        id="reschedule-to-an-unknown-consultant",
    ),
    pytest.param(
        not_found("/api/v1/bookings/not-a-uuid/reschedule", reschedule(0, ""), "id"),
        id="reschedule-bad-uuid-in-path",
    ),
    pytest.param(
        not_found(f"/api/v1/bookings/{uuid.uuid4()}/reschedule", reschedule(0, ""), "booking"),
        id="reschedule-unknown-booking",
    ),
    # POST /api/v1/bookings/{id}/cancel
    pytest.param(cancel(422, "validation", "reason", reason=DROP), id="cancel-missing-reason"),
    pytest.param(cancel(422, "validation", "reason", reason="   "), id="cancel-blank-reason"),
    pytest.param(
        raw(
            "POST",
            CANCEL,
            415,
            "unsupported-media-type",
            "Content-Type",
            b"reason=x",
            content_type=FORM,
        ),
        id="cancel-form-encoded",
    ),
    pytest.param(
        not_found("/api/v1/bookings/12345/cancel", cancel(0, ""), "id"),
        id="cancel-bad-uuid-in-path",
    ),
    # GET /api/v1/slots
    pytest.param(slots("service_id", service_id=DROP), id="slots-missing-service-id"),
    pytest.param(slots("start", start="2027-03-08T00:00:00"), id="slots-naive-start"),
    pytest.param(slots("end", end="2027-03-07T00:00:00Z"), id="slots-end-before-start"),
    pytest.param(slots("end", end="2037-03-08T00:00:00Z"), id="slots-ten-year-range"),
    pytest.param(slots("service_id", service_id=str(UNKNOWN_ID)), id="slots-unknown-service"),
    pytest.param(slots("service_id", service_id="abc"), id="slots-non-numeric-service-id"),
    pytest.param(
        slots("patient_state", patient_state=DROP), id="slots-video-without-patient-state"
    ),
    pytest.param(slots("patient_state", patient_state="ZZ"), id="slots-unknown-patient-state"),
    pytest.param(slots("color", color="blue"), id="slots-unknown-parameter"),
    pytest.param(replace(slots("start"), query=start_twice), id="slots-start-given-twice"),
]


@pytest.mark.parametrize("case", BOOKING_CASES)
async def test_bad_request_gets_a_problem_naming_the_field_and_writes_nothing(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    await assert_refused_and_nothing_changed(client, conn, world, case)


async def test_a_patient_of_another_spoke_is_refused_exactly_like_an_unknown_patient(
    client: TestClient, world: World
) -> None:
    async def refusal(patient_id: str, key: str) -> dict[str, Any]:
        case = replace(
            booking(422, "validation", "patient_id", patient_id=patient_id), idempotency_key=key
        )
        problem = await problem_of(await send(client, world, case), 422)
        return {k: v for k, v in problem.items() if k != "request_id"}

    stranger = await refusal(world.stranger_id, "stranger")
    unknown = await refusal(str(uuid.uuid4()), "unknown")

    assert stranger == unknown
    assert stranger["errors"] == [
        {"field": "patient_id", "detail": "no such patient at this clinic"}
    ]


async def test_a_slot_query_with_an_unencoded_plus_in_the_offset_finds_the_same_slots(
    client: TestClient, world: World
) -> None:
    def url(plus: str) -> URL:
        window = f"start=2027-03-08T01:00:00{plus}01:00&end=2027-03-09T01:00:00{plus}01:00"
        query = f"service_id={world.service_id}&patient_state=VT&{window}"
        return URL(f"/api/v1/slots?{query}", encoded=True)

    plain, encoded = url("+"), url("%2B")
    assert plain.query["start"] == "2027-03-08T01:00:00 01:00"  # what the server receives

    as_sent = await client.get(plain, headers=world.spoke_headers)
    as_meant = await client.get(encoded, headers=world.spoke_headers)

    assert as_sent.status == as_meant.status == 200, await as_sent.text()
    slots = (await as_sent.json())["slots"]
    assert slots == (await as_meant.json())["slots"]
    assert [s["start"] for s in slots] == [
        "2027-03-08T17:00:00Z",
        "2027-03-08T18:00:00Z",
        "2027-03-08T19:00:00Z",
    ]
