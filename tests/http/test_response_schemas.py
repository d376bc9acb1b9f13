"""The OpenAPI document describes the real responses: every operation is driven once with
valid input, and its status, media type, headers and body are checked against the document."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator, FormatChecker

from tests.factories import Clock, Network
from tests.factories.care import cover_registry
from tests.http.consent_contract import cover_consents, cover_disclosures
from tests.http.group_hub.contract import cover_attendance
from tests.http.group_seats.contract import cover_group_seats
from tests.http.groups.contract import cover_groups
from tests.http.test_case_review_agenda import cover_case_review
from tests.http.test_registry_billing import cover_billing

SECTIONS = {
    "assessment": "Opioid use disorder, severe; moderate depression.",
    "recommendations": {
        "moud": "Buprenorphine.",
        "medications": "",
        "therapy": "",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks.",
    "visit_recommended": True,
}


class Contract:
    """Sends requests and checks each answer against what the document says of it."""

    def __init__(self, client: TestClient, doc: dict[str, Any]) -> None:
        self.client = client
        self.doc = doc
        self.covered: set[tuple[str, str]] = set()

    def _resolve(self, node: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def _validate(self, schema: dict[str, Any], instance: object, where: str) -> None:
        wrapped = {**schema, "components": self.doc["components"]}
        errors = list(
            Draft202012Validator(wrapped, format_checker=FormatChecker()).iter_errors(instance)
        )
        assert not errors, (where, [e.message for e in errors[:3]])

    async def call(
        self,
        method: str,
        template: str,
        headers: dict[str, str],
        *,
        status: int,
        ids: dict[str, Any] | None = None,
        json: Any = None,
        params: dict[str, Any] | None = None,
        data: bytes | None = None,
    ) -> Any:
        """Send one request to the operation at `template`, check the answer, return its body
        (decoded JSON; the bytes of any other media type the document names)."""
        operation = self.doc["paths"][template][method.lower()]
        path = template.format(**(ids or {}))
        response = await self.client.request(
            method, path, json=json, data=data, params=params, headers=headers
        )
        raw = await response.read()
        text = raw.decode("utf-8", errors="replace")
        where = f"{method} {template} -> {response.status}"
        assert response.status == status, (where, text)
        assert str(response.status) in operation["responses"], f"{where}: status not documented"
        documented = self._resolve(operation["responses"][str(response.status)])
        for name, header in documented.get("headers", {}).items():
            if header.get("required"):
                assert name in response.headers, f"{where}: no {name} header"
        self.covered.add((method.lower(), template))
        if "content" not in documented:
            assert text == "", where
            return None
        assert response.content_type in documented["content"], (where, response.content_type)
        if not response.content_type.endswith("json"):
            return raw
        body = await response.json(content_type=None)
        self._validate(documented["content"][response.content_type]["schema"], body, where)
        return body


async def test_every_operation_answers_as_the_document_says(
    client: TestClient, network: Network, clock: Clock
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    api = Contract(client, doc)
    admin = network.hub_admin_headers()

    # Services and consultants (the hub).
    await api.call("GET", "/api/v1/services", admin, status=200)
    video = await api.call(
        "POST",
        "/api/v1/services",
        admin,
        status=201,
        json={
            "kind": "video_session",
            "name": "Video visit",
            "duration_minutes": 60,
            "roles": ["psychiatric_consultant"],
        },
    )
    await api.call("GET", "/api/v1/services/{id}", admin, status=200, ids=video)
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await api.call(
        "POST",
        "/api/v1/consultants",
        admin,
        status=201,
        json={
            "name": "Dr Ada Okafor",
            "credentials": "MD",
            "role": "psychiatric_consultant",
            "timezone": "America/Los_Angeles",
            "licensed_states": ["VT"],
            "service_ids": [video["id"], econsult_service.id],
        },
    )
    others = await network.consultant([econsult_service], hours=((0, time(9), time(12)),))
    own = network.consultant_headers(consultant["id"])
    await api.call("GET", "/api/v1/consultants", admin, status=200, params={"licensed_in": "VT"})
    await api.call("GET", "/api/v1/consultants/{id}", admin, status=200, ids=consultant)
    await api.call(
        "PUT",
        "/api/v1/consultants/{id}/availability",
        own,
        status=200,
        ids=consultant,
        json={
            "rules": [{"weekday": "monday", "start": "09:00", "end": "12:00"}],
            "exceptions": [
                {
                    "kind": "time_off",
                    "start": "2027-03-22T00:00:00Z",
                    "end": "2027-03-23T00:00:00Z",
                    "note": "Conference",
                }
            ],
        },
    )

    # A clinic: patients, slots, bookings.
    spoke = await network.spoke(state="VT")
    clinic = spoke.headers
    seen = await api.call(
        "GET", "/api/v1/consultants/{id}/availability", clinic, status=200, ids=consultant
    )
    assert seen["exceptions"][0]["note"] is None
    patient = await api.call(
        "POST",
        "/api/v1/patients",
        clinic,
        status=201,
        json={
            "mrn": "MRN-1001",
            "given_name": "Rosa",
            "family_name": "Diaz",
            "birth_date": "1984-05-06",
            "state": "VT",
            "email": "rosa@example.org",
        },
    )
    await api.call("GET", "/api/v1/patients", clinic, status=200, params={"mrn": "MRN-1001"})
    await api.call("GET", "/api/v1/patients/{id}", clinic, status=200, ids=patient)
    # The patient's consent on file before any note about them is signed (else it is held).
    await cover_consents(api, network, clinic, patient)
    slots = await api.call(
        "GET",
        "/api/v1/slots",
        clinic,
        status=200,
        params={
            "service_id": video["id"],
            "start": "2027-03-08T00:00:00Z",
            "end": "2027-03-09T00:00:00Z",
            "patient_state": "VT",
        },
    )
    first, second, third = (s["start"] for s in slots["slots"][:3])
    booking_body = {
        "service_id": video["id"],
        "consultant_id": consultant["id"],
        "patient_id": patient["id"],
    }
    booking = await api.call(
        "POST",
        "/api/v1/bookings",
        {**clinic, "Idempotency-Key": "contract-1"},
        status=201,
        json={**booking_body, "start": first},
    )
    await api.call("GET", "/api/v1/bookings", clinic, status=200, params={"limit": 1})
    await api.call("GET", "/api/v1/bookings/{id}", clinic, status=200, ids=booking)
    await api.call(
        "POST",
        "/api/v1/bookings/{id}/reschedule",
        clinic,
        status=200,
        ids=booking,
        json={"start": second},
    )
    doomed = await api.call(
        "POST",
        "/api/v1/bookings",
        {**clinic, "Idempotency-Key": "contract-2"},
        status=201,
        json={**booking_body, "start": third},
    )
    await api.call(
        "POST",
        "/api/v1/bookings/{id}/cancel",
        clinic,
        status=200,
        ids=doomed,
        json={"reason": "Patient asked to move it"},
    )
    # Holds: one booked through its hold, one let go (weeks later, clear of the series).
    later = await api.call(
        "GET",
        "/api/v1/slots",
        clinic,
        status=200,
        params={
            "service_id": video["id"],
            "start": "2027-04-05T00:00:00Z",
            "end": "2027-04-06T00:00:00Z",
            "patient_state": "VT",
        },
    )
    fourth, fifth = (s["start"] for s in later["slots"][:2])
    held = await api.call(
        "POST",
        "/api/v1/holds",
        {**clinic, "Idempotency-Key": "contract-hold-1"},
        status=201,
        json={**booking_body, "start": fourth},
    )
    await api.call("GET", "/api/v1/holds/{id}", clinic, status=200, ids=held)
    await api.call(
        "POST",
        "/api/v1/bookings",
        {**clinic, "Idempotency-Key": "contract-held"},
        status=201,
        json={"hold_id": held["id"], "patient_id": patient["id"]},
    )
    let_go = await api.call(
        "POST",
        "/api/v1/holds",
        {**clinic, "Idempotency-Key": "contract-hold-2"},
        status=201,
        json={**booking_body, "start": fifth},
    )
    await api.call("DELETE", "/api/v1/holds/{id}", clinic, status=204, ids=let_go)
    await api.call(
        "POST",
        "/api/v1/bookings/{id}/notes",
        own,
        status=201,
        ids=booking,
        json={"sections": SECTIONS},
    )
    await api.call("GET", "/api/v1/bookings/{id}/notes", own, status=200, ids=booking)

    # An e-consult, its thread, its note, the closed loop.
    econsult = await api.call(
        "POST",
        "/api/v1/econsults",
        clinic,
        status=201,
        json={
            "patient_id": patient["id"],
            "service_id": econsult_service.id,
            "referring_clinician": "Dr. Lena Park",
            "question": "Buprenorphine induction with ongoing fentanyl use?",
        },
    )
    await api.call("GET", "/api/v1/econsults", clinic, status=200)
    await api.call("GET", "/api/v1/econsults/{id}", clinic, status=200, ids=econsult)
    await api.call(
        "POST",
        "/api/v1/econsults/{id}/assign",
        admin,
        status=200,
        ids=econsult,
        json={"consultant_id": consultant["id"]},
    )
    assert others.id != consultant["id"]
    await api.call(
        "POST",
        "/api/v1/econsults/{id}/messages",
        clinic,
        status=201,
        ids=econsult,
        json={"body": "The latest screen is attached to the chart."},
    )
    await api.call("GET", "/api/v1/econsults/{id}/messages", own, status=200, ids=econsult)
    note = await api.call(
        "POST",
        "/api/v1/econsults/{id}/notes",
        own,
        status=201,
        ids=econsult,
        json={"sections": {**SECTIONS, "follow_up": ""}},
    )
    await api.call(
        "PUT", "/api/v1/notes/{id}", own, status=200, ids=note, json={"sections": SECTIONS}
    )
    await api.call("POST", "/api/v1/notes/{id}/sign", own, status=200, ids=note)
    await api.call("GET", "/api/v1/econsults/{id}/notes", own, status=200, ids=econsult)
    await api.call("GET", "/api/v1/notes", clinic, status=200, params={"acknowledged": "false"})
    await api.call("GET", "/api/v1/notes/{id}", clinic, status=200, ids=note)
    await api.call("POST", "/api/v1/notes/{id}/acknowledge", clinic, status=200, ids=note)
    await api.call(
        "POST",
        "/api/v1/econsults/{id}/visit",
        clinic,
        status=201,
        ids=econsult,
        json={"service_id": video["id"], "consultant_id": consultant["id"], "start": first},
    )
    await api.call("GET", "/api/v1/patients/{id}/care", clinic, status=200, ids=patient)
    await cover_disclosures(api, network, clinic, patient)

    # A course of sessions, every other Monday at the first slot's time (time off on the 22nd).
    course = await api.call(
        "POST",
        "/api/v1/series",
        {**clinic, "Idempotency-Key": "contract-series"},
        status=201,
        json={
            **booking_body,
            "first_start": first.replace("-08T", "-15T").replace("17:00", "16:00"),
            "repeat": "every_2_weeks",
            "count": 2,
        },
    )
    await api.call("GET", "/api/v1/series/{id}", clinic, status=200, ids=course)
    await api.call(
        "GET", "/api/v1/series", clinic, status=200, params={"patient_id": patient["id"]}
    )
    await api.call(
        "POST",
        "/api/v1/series/{id}/cancel",
        clinic,
        status=200,
        ids=course,
        json={"from": 2, "reason": "Patient moves away"},
    )

    # The 1:1 waitlist: tell the clinic when an earlier time opens.
    waiting = await api.call(
        "POST",
        "/api/v1/waitlist",
        clinic,
        status=201,
        json={
            "service_id": video["id"],
            "patient_state": "VT",
            "latest_date": "2027-03-31",
            "patient_id": patient["id"],
        },
    )
    await api.call("GET", "/api/v1/waitlist", clinic, status=200)
    await api.call("GET", "/api/v1/waitlist/{id}", clinic, status=200, ids=waiting)
    await api.call("POST", "/api/v1/waitlist/{id}/leave", clinic, status=200, ids=waiting)

    # The hub's calendar, deliveries and measures; the clinic's webhook.
    await api.call("GET", "/api/v1/hub/holidays", admin, status=200)
    await api.call(
        "PUT",
        "/api/v1/hub/holidays",
        admin,
        status=200,
        json={"holidays": [{"day": "2027-12-25", "name": "Christmas Day"}]},
    )
    deliveries = await api.call("GET", "/api/v1/deliveries", admin, status=200)
    await api.call(
        "POST",
        "/api/v1/deliveries/{id}/retry",
        admin,
        status=200,
        ids=deliveries["deliveries"][0],
    )
    await api.call(
        "GET",
        "/api/v1/measures",
        admin,
        status=200,
        params={"start": "2027-01-01T00:00:00Z", "end": "2027-12-31T00:00:00Z"},
    )
    spoke_ids = {"id": spoke.id}
    await api.call("GET", "/api/v1/spokes/{id}/webhook", clinic, status=200, ids=spoke_ids)
    await api.call(
        "PUT",
        "/api/v1/spokes/{id}/webhook",
        clinic,
        status=200,
        ids=spoke_ids,
        json={"url": "http://127.0.0.1:9/telehub", "full_payload": False},  # loopback only
    )

    # Calendar feed URLs.
    for template, headers, ids in (
        ("/api/v1/consultants/{id}/feed", own, consultant),
        ("/api/v1/spokes/{id}/feed", clinic, spoke_ids),
    ):
        await api.call("POST", template, headers, status=201, ids=ids)
        await api.call("GET", template, headers, status=200, ids=ids)
        await api.call("DELETE", template, headers, status=204, ids=ids)

    await cover_groups(api, network)
    await cover_group_seats(api, network)
    await cover_attendance(api, network)
    await cover_registry(api, network)
    await cover_billing(api, network)
    await cover_case_review(api, network)

    # Once the session has begun, the hub records how it went.
    clock.now = datetime(2027, 3, 8, 20, 0, tzinfo=UTC)
    await api.call(
        "POST",
        "/api/v1/bookings/{id}/outcome",
        own,
        status=200,
        ids=booking,
        json={"outcome": "completed"},
    )

    documented = {(m, p) for p, ops in doc["paths"].items() for m in ops}
    assert documented - api.covered == set()


async def test_refusals_answer_as_the_document_says(client: TestClient, network: Network) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    api = Contract(client, doc)
    spoke = await network.spoke()
    missing = {"id": "00000000-0000-4000-8000-000000000001"}
    await api.call("GET", "/api/v1/bookings/{id}", spoke.headers, status=404, ids=missing)
    await api.call("GET", "/api/v1/bookings", {}, status=401)
    await api.call("POST", "/api/v1/services", spoke.headers, status=403, json={})
    await api.call("GET", "/api/v1/slots", spoke.headers, status=422, params={"service_id": "x"})
    await api.call(
        "POST", "/api/v1/patients", spoke.headers, status=400, json=["not", "an", "object"]
    )
    form = await client.post(
        "/api/v1/patients", data={"mrn": "1"}, headers=spoke.headers
    )  # a form is not JSON: 415, documented on every operation with a body
    assert form.status == 415
    assert "415" in doc["paths"]["/api/v1/patients"]["post"]["responses"]
