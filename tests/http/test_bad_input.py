"""Bad input gets a clear 4xx problem document naming the field, and changes nothing."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from yarl import URL

from tests.factories import Network, booking_row

PROBLEM_JSON = "application/problem+json"
TABLES = (
    "bookings",
    "patients",
    "services",
    "consultants",
    "consultant_services",
    "availability_rules",
    "availability_exceptions",
    "audit_log",
    "idempotency_keys",
)

# The default consultant works Mondays 09:00-12:00 in Los Angeles (PST until 14 March 2027).
OPEN = "2027-03-08T17:00:00Z"  # Monday 09:00 PST: an open slot, and stays one
BOOKED = "2027-03-15T16:00:00Z"  # Monday 09:00 PDT: the existing booking
HALF_PAST = "2027-03-08T17:30:00Z"  # Monday 09:30 PST: inside the hours, off the grid
TUESDAY = "2027-03-09T17:00:00Z"  # Tuesday 09:00 PST: no hours that day
LAST_WEEK = "2027-02-22T17:00:00Z"  # Monday 09:00 PST a week before the clock's "now"
SHORT_HORIZON_DAYS = 14
BEYOND_HORIZON = "2027-03-22T16:00:00Z"  # Monday 09:00 PDT, 21 days ahead
KEY = "bad-input-key-1"
UNKNOWN_ID = 987_654
OVERSIZE = "x" * (300 * 1024)
MAX_BODY = 256 * 1024


def padded_patient(size: int) -> bytes:
    """A patient body with an unknown `pad` field, exactly `size` bytes long."""
    body = {"mrn": "PAD-1", "given_name": "Ada", "family_name": "Lovelace"}
    body |= {"birth_date": "1980-02-03", "state": "VT", "pad": ""}
    text = json.dumps(body).encode()
    padded = text.replace(b'"pad": ""', b'"pad": "' + b"x" * (size - len(text)) + b'"')
    assert len(padded) == size
    return padded


@dataclass(frozen=True)
class World:
    """A consultant with one booking and open Monday slots, a spoke, its patient and another's."""

    service_id: int
    short_service_id: int
    other_service_id: int  # a service the consultant does not offer
    consultant_id: int
    patient_id: str
    stranger_id: str
    booking_id: str
    spoke_headers: Mapping[str, str]
    admin_headers: Mapping[str, str]


Body = Callable[[World], Any]
DROP = object()


@dataclass(frozen=True)
class Bad:
    """One bad request, and the refusal it must get."""

    method: str
    path: str
    status: int
    slug: str
    fields: tuple[str, ...] = ()
    detail_has: str = ""
    body: Body | None = None
    raw: bytes | None = None
    query: Body | None = None
    content_type: str = "application/json"
    as_admin: bool = False
    idempotency_key: str | None = None


def _fill(template: dict[str, Any], changes: dict[str, Any]) -> Body:
    def body(w: World) -> dict[str, Any]:
        merged = {**template, **changes}
        values = {k: v(w) if callable(v) else v for k, v in merged.items()}
        return {k: v for k, v in values.items() if v is not DROP}

    return body


def booking(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings of OPEN with `changes`, under an Idempotency-Key."""
    template = {
        "service_id": lambda w: w.service_id,
        "consultant_id": lambda w: w.consultant_id,
        "patient_id": lambda w: w.patient_id,
        "start": OPEN,
    }
    body = _fill(template, changes)
    return Bad("POST", "/api/v1/bookings", status, slug, fields, body=body, idempotency_key=KEY)


def not_found(path: str, case: Bad, detail_has: str) -> Bad:
    """The same request sent to a path whose id is malformed or unknown: 404."""
    return replace(case, path=path, status=404, slug="not-found", fields=(), detail_has=detail_has)


def raw(method: str, path: str, status: int, slug: str, field: str, data: bytes, **kw: Any) -> Bad:
    """A body that is not a JSON object, or not JSON at all."""
    return Bad(method, path, status, slug, (field,), raw=data, **kw)


def reschedule(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings/{booking}/reschedule to OPEN with `changes`."""
    return Bad(
        "POST",
        "/api/v1/bookings/{booking}/reschedule",
        status,
        slug,
        fields,
        body=_fill({"start": OPEN}, changes),
    )


def cancel(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/bookings/{booking}/cancel with a reason, with `changes`."""
    return Bad(
        "POST",
        "/api/v1/bookings/{booking}/cancel",
        status,
        slug,
        fields,
        body=_fill({"reason": "patient asked"}, changes),
    )


def slots(*fields: str, **changes: Any) -> Bad:
    """GET /api/v1/slots for one Monday with `changes`: always 422."""
    template = {
        "service_id": lambda w: str(w.service_id),
        "start": "2027-03-08T00:00:00Z",
        "end": "2027-03-09T00:00:00Z",
        "patient_state": "VT",
    }
    return Bad("GET", "/api/v1/slots", 422, "validation", fields, query=_fill(template, changes))


def patient(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """POST /api/v1/patients with `changes`."""
    template = {
        "mrn": "NEW-1",
        "given_name": "Ada",
        "family_name": "Lovelace",
        "birth_date": "1980-02-03",
        "state": "VT",
    }
    return Bad("POST", "/api/v1/patients", status, slug, fields, body=_fill(template, changes))


def availability(status: int, slug: str, *fields: str, **changes: Any) -> Bad:
    """PUT /api/v1/consultants/{consultant}/availability, as the hub admin, with `changes`."""
    template = {
        "rules": [{"weekday": "monday", "start": "09:00", "end": "12:00"}],
        "exceptions": [],
    }
    return Bad(
        "PUT",
        "/api/v1/consultants/{consultant}/availability",
        status,
        slug,
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


def rule(**changes: Any) -> Body:
    """A rules list of one Monday rule with `changes`."""
    return lambda w: [{"weekday": "monday", "start": "09:00", "end": "12:00", **changes}]


def exception(**changes: Any) -> Body:
    """An exceptions list of one week's time off with `changes`."""
    base = {"kind": "time_off", "start": "2027-03-08T00:00:00Z", "end": "2027-03-15T00:00:00Z"}
    return lambda w: [{**base, **changes}]


def service(*fields: str, **changes: Any) -> Bad:
    """POST /api/v1/services, as the hub admin, with `changes`: always 422."""
    template = {
        "kind": "video_session",
        "name": "Brand new session",
        "duration_minutes": 30,
        "roles": ["psychiatric_consultant"],
    }
    return Bad(
        "POST",
        "/api/v1/services",
        422,
        "validation",
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


def consultant(*fields: str, **changes: Any) -> Bad:
    """POST /api/v1/consultants, as the hub admin, with `changes`: always 422."""
    template = {
        "name": "Dr New",
        "role": "psychiatric_consultant",
        "timezone": "America/Chicago",
        "licensed_states": ["VT"],
        "service_ids": [],
    }
    return Bad(
        "POST",
        "/api/v1/consultants",
        422,
        "validation",
        fields,
        body=_fill(template, changes),
        as_admin=True,
    )


BOOKINGS = "/api/v1/bookings"
RESCHEDULE = "/api/v1/bookings/{booking}/reschedule"
CANCEL = "/api/v1/bookings/{booking}/cancel"
MALFORMED = b'{"start": "2027-03-08T17:00:00Z",'
DEEP = b'{"reason": ' + b"[" * 1200 + b"]" * 1200 + b"}"
HUGE_INT = b'{"service_id": ' + b"9" * 5000 + b"}"
FORM = "application/x-www-form-urlencoded"


def cursor_of(start: str) -> str:
    """A bookings cursor as the API encodes one, for any start."""
    return base64.urlsafe_b64encode(f"{start}|{uuid.uuid4()}".encode()).decode()


def start_twice(w: World) -> list[tuple[str, str]]:
    """A slot query that gives `start` twice."""
    return [
        ("service_id", str(w.service_id)),
        ("start", "2027-03-08T00:00:00Z"),
        ("start", "2027-03-09T00:00:00Z"),
        ("end", "2027-03-10T00:00:00Z"),
        ("patient_state", "VT"),
    ]


CASES = [
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


# Far-off years (which overflow when moved to UTC), NUL characters (which PostgreSQL text
# cannot hold) and non-ASCII digits in a path once reached the database or int() and gave 500s.
EDGE_CASES = [
    pytest.param(
        booking(422, "validation", "start", start="9999-12-31T23:00:00-05:00"),
        id="booking-start-in-year-9999",
    ),
    pytest.param(
        slots("start", start="0001-01-01T00:00:00+01:00"),
        id="slots-window-from-year-1",
    ),
    pytest.param(
        availability(
            422,
            "validation",
            "exceptions.0.end",
            exceptions=exception(end="9999-12-31T23:00:00-05:00"),
        ),
        id="availability-exception-ending-after-year-9999-in-utc",
    ),
    pytest.param(
        Bad(
            "GET",
            "/api/v1/bookings",
            422,
            "validation",
            ("start",),
            query=lambda w: {"start": "9999-12-31T23:00:00-05:00"},
        ),
        id="bookings-list-from-year-9999",
    ),
    pytest.param(
        patient(422, "validation", "given_name", given_name="Ada\u0000"),
        id="patient-name-with-nul",
    ),
    pytest.param(
        booking(422, "validation", "reason", reason="see\u0000chart"),
        id="booking-reason-with-nul",
    ),
    pytest.param(service("name", name="Session\u0000"), id="service-name-with-nul"),
    pytest.param(
        Bad(
            "GET",
            "/api/v1/patients",
            400,
            "bad-request",
            ("mrn",),
            query=lambda w: {"mrn": "MRN\u0000"},
        ),
        id="patients-search-by-mrn-with-nul",
    ),
    pytest.param(
        not_found("/api/v1/consultants/%C2%B2/availability", availability(0, ""), "id"),
        id="availability-superscript-digit-id-in-path",
    ),
    # A line break or an invisible control in a name once reached calendar feeds.
    pytest.param(
        consultant("name", name="Dr New\nX-INJECTED:1"), id="consultant-name-with-newline"
    ),
    pytest.param(
        consultant("credentials", credentials="MD\r\nBEGIN:VEVENT"),
        id="consultant-credentials-with-crlf",
    ),
    pytest.param(service("name", name="Session\u2028two"), id="service-name-line-separator"),
    pytest.param(
        patient(422, "validation", "family_name", family_name="Love\u202elace"),
        id="patient-name-with-bidi-override",
    ),
    pytest.param(
        booking(422, "validation", "reason", reason="see\u0007chart"), id="booking-reason-bell"
    ),
    # JSON that exhausted the parser's recursion, or int()'s 4,300-digit limit.
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", DEEP, idempotency_key=KEY),
        id="booking-json-nested-1200-deep",
    ),
    pytest.param(
        raw("POST", BOOKINGS, 400, "bad-request", "body", HUGE_INT, idempotency_key=KEY),
        id="booking-integer-of-5000-digits",
    ),
    pytest.param(
        raw(
            "POST",
            BOOKINGS,
            400,
            "bad-request",
            "body",
            b'{"service_id": NaN}',
            idempotency_key=KEY,
        ),
        id="booking-nan",
    ),
    # A hand-made bookings cursor holding a year PostgreSQL cannot take.
    *(
        pytest.param(
            Bad(
                "GET", BOOKINGS, 422, "validation", ("cursor",), query=lambda w, c=c: {"cursor": c}
            ),
            id=f"bookings-cursor-{name}",
        )
        for name, c in (
            ("year-1", cursor_of("0001-01-01T00:00:00+14:00")),
            ("year-9999", cursor_of("9999-12-31T23:59:59-12:00")),
        )
    ),
]


@pytest.fixture
async def world(client: TestClient, network: Network) -> World:
    """The network the bad requests are sent to, with one booking already made."""
    service = await network.service()
    short = await network.service(horizon_days=SHORT_HORIZON_DAYS)
    other = await network.service()
    consultant = await network.consultant([service, short])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    stranger = await network.patient(await network.spoke())
    made = await client.post(
        "/api/v1/bookings",
        headers={**spoke.headers, "Idempotency-Key": "setup-booking"},
        json={
            "service_id": service.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": BOOKED,
        },
    )
    assert made.status == 201, await made.text()
    return World(
        service_id=service.id,
        short_service_id=short.id,
        other_service_id=other.id,
        consultant_id=consultant.id,
        patient_id=str(patient.id),
        stranger_id=str(stranger.id),
        booking_id=(await made.json())["id"],
        spoke_headers=spoke.headers,
        admin_headers=network.hub_admin_headers(),
    )


async def send(client: TestClient, world: World, case: Bad) -> ClientResponse:
    """Send the bad request as the spoke (or the hub admin)."""
    headers = dict(world.admin_headers if case.as_admin else world.spoke_headers)
    path = case.path.format(booking=world.booking_id, consultant=world.consultant_id)
    if case.query is not None:
        return await client.request(case.method, path, params=case.query(world), headers=headers)
    if case.idempotency_key is not None:
        headers["Idempotency-Key"] = case.idempotency_key
    headers["Content-Type"] = case.content_type
    data = case.raw if case.raw is not None else json.dumps(case.body(world)).encode()
    return await client.request(case.method, path, data=data, headers=headers)


async def problem_of(response: ClientResponse, status: int) -> dict[str, Any]:
    """The problem document of a refusal, after checking its status and media type."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == PROBLEM_JSON
    problem: dict[str, Any] = json.loads(text)
    assert problem["status"] == status
    return problem


async def row_counts(conn: asyncpg.Connection) -> dict[str, int]:
    """How many rows every table holds."""
    return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in TABLES}


async def open_starts(client: TestClient, world: World, day: str = "2027-03-08") -> list[str]:
    """Starts of the slots offered for the main service on one day."""
    response = await client.get(
        "/api/v1/slots",
        params={
            "service_id": world.service_id,
            "start": f"{day}T00:00:00Z",
            "end": f"{day}T23:59:59Z",
            "patient_state": "VT",
        },
        headers=world.spoke_headers,
    )
    assert response.status == 200, await response.text()
    return [s["start"] for s in (await response.json())["slots"]]


async def assert_refused_and_nothing_changed(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    """Send `case`; check the problem it gets, and that the database did not change."""
    before = await row_counts(conn)
    booked = await booking_row(conn, world.booking_id)
    assert OPEN in await open_starts(client, world)

    problem = await problem_of(await send(client, world, case), case.status)

    assert problem["type"] == f"/problems/{case.slug}"
    if case.fields:
        assert [e["field"] for e in problem["errors"]] == list(case.fields)
        assert all(e["detail"] for e in problem["errors"])
    if case.detail_has:
        assert case.detail_has in problem["detail"]
    # Not even the Idempotency-Key is kept: a refused request had no effect to protect.
    assert await row_counts(conn) == before
    assert await booking_row(conn, world.booking_id) == booked
    assert OPEN in await open_starts(client, world)


@pytest.mark.parametrize("case", CASES)
async def test_bad_request_gets_a_problem_naming_the_field_and_writes_nothing(
    client: TestClient, conn: asyncpg.Connection, world: World, case: Bad
) -> None:
    await assert_refused_and_nothing_changed(client, conn, world, case)


@pytest.mark.parametrize("case", EDGE_CASES)
async def test_far_off_years_nul_characters_and_odd_digits_get_a_problem_not_a_500(
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


async def test_a_nul_in_a_token_request_form_is_an_invalid_request(client: TestClient) -> None:
    response = await client.post(
        "/oauth/token",
        data=b"grant_type=client_credentials&client_id=a%00b&client_secret=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    assert response.content_type == "application/json"  # RFC 6749 on the token endpoint
    body = await response.json()
    assert body["error"] == "invalid_request"
    assert "client_id" in body["error_description"]


@pytest.mark.parametrize(
    ("method", "path", "form"),
    [
        pytest.param("POST", "/signin", b"email=a%00b&password=x&csrf_token=t", id="signin-email"),
        pytest.param(
            "GET",
            "/spoke/book?service_id=1&day=2027-03-08&mrn=a%00b",
            None,
            id="book-page-mrn-in-query",
        ),
        pytest.param(
            "POST", "/coordinator/clients/a%00b/revoke", b"csrf_token=t", id="client-id-in-path"
        ),
        pytest.param(
            "POST", "/signin", b"email=a%01b%0Ac&password=x&csrf_token=t", id="signin-ctrl-a"
        ),
    ],
)
async def test_a_control_character_in_a_page_request_gets_the_error_page_naming_the_field(
    client: TestClient, conn: asyncpg.Connection, method: str, path: str, form: bytes | None
) -> None:
    before = await conn.fetchval("SELECT count(*) FROM audit_log")
    headers = {"Content-Type": "application/x-www-form-urlencoded"} if form else {}
    response = await client.request(
        method, URL(path, encoded=True), data=form, headers=headers, allow_redirects=False
    )
    assert response.status == 400
    assert response.content_type == "text/html"
    assert "control character" in await response.text()
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == before


async def test_a_control_character_in_an_api_query_is_a_bad_request_naming_it(
    client: TestClient, network: Network
) -> None:
    # (In a header, aiohttp's own parser answers 400 before the app sees the request.)
    spoke = await network.spoke()
    query = await client.get(URL("/api/v1/patients?mrn=a%07b", encoded=True), headers=spoke.headers)
    problem = await problem_of(query, 400)
    assert [e["field"] for e in problem["errors"]] == ["mrn"]


async def test_lines_in_a_multi_line_form_field_pass_the_control_character_check(
    client: TestClient,
) -> None:
    response = await client.post(
        "/signin",
        data=b"email=a%0D%0Ab%09c&password=x",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 403  # past the check, to the missing CSRF token
    assert "expired" in await response.text()
