"""Booking through FHIR: $find, $hold, $book, POST Appointment with one Slot, read, search,
cancel, reschedule, idempotent retries, and refusals as OperationOutcomes naming the element.
Every answer is validated by the R4B models (support.fhir)."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.fhir_booking.support import (
    MONDAY_9,
    MONDAY_10,
    booking_params,
    clinic,
    fhir,
    find_params,
    key,
    outcome_names,
    parameters,
    proposal_at,
    proposed,
)

HOLD_EXPIRES = "urn:telehub:extension:hold-expires"


async def _bookings(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch("SELECT id, status, lower(period) AS start FROM bookings")


async def test_find_proposes_each_open_slot_as_an_appointment(
    client: TestClient, network: Network
) -> None:
    c = await clinic(network)
    found = await proposed(client, c)
    assert [p["start"] for p in found] == [MONDAY_9, MONDAY_10, "2027-03-08T19:00:00Z"]
    first = found[0]
    assert first["status"] == "proposed"
    assert first["slot"] == [
        {"reference": f"Slot/{c.consultant.id}-{c.service.id}-20270308T170000Z"}
    ]
    actors = [p["actor"]["reference"] for p in first["participant"]]
    assert actors == [f"Patient/{c.patient.id}", f"Practitioner/{c.consultant.id}"]


async def test_find_by_the_patients_state_alone(client: TestClient, network: Network) -> None:
    c = await clinic(network)
    found = await fhir(
        client,
        "POST",
        "Appointment/$find",
        c.spoke.headers,
        find_params(c, patient=False),
        expect=200,
    )
    assert found["total"] == 3


async def test_find_refuses_a_missing_service_type_naming_it(
    client: TestClient, network: Network
) -> None:
    c = await clinic(network)
    body = find_params(c)
    body["parameter"] = [p for p in body["parameter"] if p["name"] != "service-type"]
    refused = await fhir(client, "POST", "Appointment/$find", c.spoke.headers, body, expect=422)
    outcome_names(refused, "service-type")


async def test_hold_then_book_books_the_held_slot(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    held = await fhir(
        client,
        "POST",
        "Appointment/$hold",
        {**c.spoke.headers, **key()},
        booking_params(wanted),
        expect=201,
    )
    assert held["status"] == "pending" and held["id"].startswith("hold-")
    [expiry] = [e for e in held["extension"] if e["url"] == HOLD_EXPIRES]
    assert expiry["valueInstant"] == "2027-03-01T15:05:00Z"  # five minutes on the test clock
    # While held, the slot is not offered and nobody else can hold it.
    assert MONDAY_9 not in [p["start"] for p in await proposed(client, c)]
    other = await network.spoke()
    other_patient = await network.patient(other)
    theirs = {
        **wanted,
        "participant": [
            {"actor": {"reference": f"Patient/{other_patient.id}"}, "status": "needs-action"}
        ],
    }
    taken = await fhir(
        client, "POST", "Appointment/$hold", other.headers, booking_params(theirs), expect=409
    )
    assert taken["issue"][0]["code"] == "conflict"

    booked = await fhir(
        client,
        "POST",
        "Appointment/$book",
        {**c.spoke.headers, **key()},
        parameters(
            appointment_reference={"valueReference": {"reference": f"Appointment/{held['id']}"}}
        ),
        expect=201,
    )
    assert booked["status"] == "booked"
    assert booked["slot"] == wanted["slot"]
    assert booked["start"] == MONDAY_9
    rows = await _bookings(pool)
    assert [(str(r["id"]), r["status"]) for r in rows] == [(booked["id"], "booked")]
    # The hold reads as ended, pointing at the booking it became.
    ended = await fhir(client, "GET", f"Appointment/{held['id']}", c.spoke.headers, expect=200)
    assert ended["status"] == "cancelled"
    assert ended["supportingInformation"] == [{"reference": f"Appointment/{booked['id']}"}]


async def test_another_clinic_cannot_book_a_hold(client: TestClient, network: Network) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    held = await fhir(
        client, "POST", "Appointment/$hold", c.spoke.headers, booking_params(wanted), expect=201
    )
    other = await network.spoke()
    ref = parameters(
        appointment_reference={"valueReference": {"reference": f"Appointment/{held['id']}"}}
    )
    refused = await fhir(client, "POST", "Appointment/$book", other.headers, ref, expect=404)
    assert refused["issue"][0]["code"] == "not-found"


async def test_book_a_proposed_appointment_directly(client: TestClient, network: Network) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_10)
    booked = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    assert (booked["status"], booked["start"]) == ("booked", MONDAY_10)


async def test_post_appointment_with_one_slot_as_oracle_health_sends_it(
    client: TestClient, network: Network
) -> None:
    c = await clinic(network)
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{c.consultant.id}-{c.service.id}-20270308T170000Z"}],
        "participant": [{"actor": {"reference": f"Patient/{c.patient.id}"}, "status": "accepted"}],
    }
    made = await fhir(client, "POST", "Appointment", {**c.spoke.headers, **key()}, body, expect=201)
    assert made["status"] == "booked" and made["slot"] == body["slot"]
    again = await fhir(client, "GET", f"Appointment/{made['id']}", c.spoke.headers, expect=200)
    assert again["id"] == made["id"] and again["start"] == MONDAY_9


async def test_a_taken_slot_is_a_409_operation_outcome(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    refused = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=409
    )
    assert refused["issue"][0]["code"] == "conflict"
    assert len(await _bookings(pool)) == 1


async def test_a_time_that_is_not_a_slot_is_refused_naming_the_slot(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{c.consultant.id}-{c.service.id}-20270308T173000Z"}],
        "participant": [{"actor": {"reference": f"Patient/{c.patient.id}"}, "status": "accepted"}],
    }
    refused = await fhir(client, "POST", "Appointment", c.spoke.headers, body, expect=422)
    outcome_names(refused, "Appointment.slot")
    body["slot"] = [{"reference": "Slot/not-a-slot"}]
    refused = await fhir(client, "POST", "Appointment", c.spoke.headers, body, expect=422)
    outcome_names(refused, "Appointment.slot[0]")
    del body["slot"]
    refused = await fhir(client, "POST", "Appointment", c.spoke.headers, body, expect=422)
    outcome_names(refused, "Appointment.slot")
    assert await _bookings(pool) == []


async def test_another_clinics_appointment_is_404(client: TestClient, network: Network) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    booked = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    del booked["_headers"]
    other = await network.spoke()
    missing = await fhir(client, "GET", f"Appointment/{booked['id']}", other.headers, expect=404)
    assert missing["issue"][0]["code"] == "not-found"
    assert await fhir(client, "GET", f"Appointment/{uuid.uuid4()}", other.headers, expect=404)
    cancel = {**booked, "status": "cancelled", "cancelationReason": {"text": "mine now"}}
    await fhir(client, "PUT", f"Appointment/{booked['id']}", other.headers, cancel, expect=404)
    still = await fhir(client, "GET", f"Appointment/{booked['id']}", c.spoke.headers, expect=200)
    assert still["status"] == "booked"


async def test_cancel_by_put_with_a_reason(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    booked = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    without_reason = {**booked, "status": "cancelled"}
    del without_reason["_headers"]
    refused = await fhir(
        client, "PUT", f"Appointment/{booked['id']}", c.spoke.headers, without_reason, expect=422
    )
    outcome_names(refused, "Appointment.cancelationReason")
    assert [r["status"] for r in await _bookings(pool)] == ["booked"]
    cancel = {**without_reason, "cancelationReason": {"text": "Patient admitted to hospital"}}
    done = await fhir(
        client, "PUT", f"Appointment/{booked['id']}", c.spoke.headers, cancel, expect=200
    )
    assert done["status"] == "cancelled"
    assert done["cancelationReason"] == {"text": "Patient admitted to hospital"}
    assert [r["status"] for r in await _bookings(pool)] == ["cancelled"]
    # The time is open again.
    assert MONDAY_9 in [p["start"] for p in await proposed(client, c)]


async def test_cancel_by_json_patch(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    booked = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    sneaky = [{"op": "replace", "path": "/start", "value": "2027-03-08T18:00:00Z"}]
    refused = await fhir(
        client,
        "PATCH",
        f"Appointment/{booked['id']}",
        c.spoke.headers,
        sneaky,
        content_type="application/json-patch+json",
        expect=422,
    )
    outcome_names(refused, "[0].path")
    ops = [
        {"op": "test", "path": "/status", "value": "booked"},
        {"op": "replace", "path": "/status", "value": "cancelled"},
        {"op": "add", "path": "/cancelationReason", "value": {"text": "Clinic closed (snow)"}},
    ]
    done = await fhir(
        client,
        "PATCH",
        f"Appointment/{booked['id']}",
        c.spoke.headers,
        ops,
        content_type="application/json-patch+json",
        expect=200,
    )
    assert (done["status"], done["cancelationReason"]["text"]) == (
        "cancelled",
        "Clinic closed (snow)",
    )
    assert [r["status"] for r in await _bookings(pool)] == ["cancelled"]


async def test_cancelling_a_pending_appointment_releases_the_hold(
    client: TestClient, network: Network
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    held = await fhir(
        client, "POST", "Appointment/$hold", c.spoke.headers, booking_params(wanted), expect=201
    )
    release = [{"op": "replace", "path": "/status", "value": "cancelled"}]
    done = await fhir(
        client,
        "PATCH",
        f"Appointment/{held['id']}",
        c.spoke.headers,
        release,
        content_type="application/json-patch+json",
        expect=200,
    )
    assert done["status"] == "cancelled"
    assert MONDAY_9 in [p["start"] for p in await proposed(client, c)]


async def test_reschedule_is_book_with_the_original_appointment(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    proposals = await proposed(client, c)
    booked = await fhir(
        client,
        "POST",
        "Appointment/$book",
        c.spoke.headers,
        booking_params(proposal_at(proposals, MONDAY_9)),
        expect=201,
    )
    # IHE ITI: the booked Appointment's id with the new Slot.
    moving = {**proposal_at(proposals, MONDAY_10), "id": booked["id"]}
    moved = await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(moving), expect=200
    )
    assert (moved["id"], moved["start"], moved["status"]) == (booked["id"], MONDAY_10, "booked")
    # Or: original-appointment beside the new proposal.
    back = parameters(
        original_appointment={"valueReference": {"reference": f"Appointment/{booked['id']}"}},
        appointment_resource={"resource": proposal_at(proposals, MONDAY_9)},
    )
    moved_back = await fhir(client, "POST", "Appointment/$book", c.spoke.headers, back, expect=200)
    assert (moved_back["id"], moved_back["start"]) == (booked["id"], MONDAY_9)
    rows = await _bookings(pool)
    assert [(str(r["id"]), r["status"]) for r in rows] == [(booked["id"], "booked")]


async def test_a_retry_with_the_same_key_books_once(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    headers = {**c.spoke.headers, **key()}
    first = await fhir(
        client, "POST", "Appointment/$book", headers, booking_params(wanted), expect=201
    )
    again = await fhir(
        client, "POST", "Appointment/$book", headers, booking_params(wanted), expect=201
    )
    assert again["_headers"]["Idempotent-Replayed"] == "true"
    assert {k: v for k, v in again.items() if k != "_headers"} == {
        k: v for k, v in first.items() if k != "_headers"
    }
    assert len(await _bookings(pool)) == 1


async def test_if_none_exist_answers_a_repeated_create_with_the_first(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    body = {
        "resourceType": "Appointment",
        "status": "booked",
        "slot": [{"reference": f"Slot/{c.consultant.id}-{c.service.id}-20270308T180000Z"}],
        "participant": [{"actor": {"reference": f"Patient/{c.patient.id}"}, "status": "accepted"}],
    }
    headers = {**c.spoke.headers, "If-None-Exist": "identifier=urn:ehr|visit-42"}
    first = await fhir(client, "POST", "Appointment", headers, body, expect=201)
    again = await fhir(client, "POST", "Appointment", headers, body, expect=201)
    assert again["id"] == first["id"]
    assert len(await _bookings(pool)) == 1


async def test_search_the_clinics_appointments(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    proposals = await proposed(client, c)
    first = await fhir(
        client,
        "POST",
        "Appointment/$book",
        c.spoke.headers,
        booking_params(proposal_at(proposals, MONDAY_9)),
        expect=201,
    )
    second = await fhir(
        client,
        "POST",
        "Appointment/$book",
        c.spoke.headers,
        booking_params(proposal_at(proposals, MONDAY_10)),
        expect=201,
    )
    cancel = [
        {"op": "replace", "path": "/status", "value": "cancelled"},
        {"op": "add", "path": "/cancelationReason", "value": {"text": "moved away"}},
    ]
    await fhir(
        client,
        "PATCH",
        f"Appointment/{second['id']}",
        c.spoke.headers,
        cancel,
        content_type="application/json-patch+json",
        expect=200,
    )
    other = await network.spoke()

    async def ids(headers: dict[str, str], query: str) -> list[str]:
        found = await fhir(client, "GET", f"Appointment?{query}", headers, expect=200)
        return [e["resource"]["id"] for e in found.get("entry", [])]

    patient = f"patient=Patient/{c.patient.id}"
    assert await ids(c.spoke.headers, patient) == [first["id"], second["id"]]
    assert await ids(c.spoke.headers, f"{patient}&status=booked") == [first["id"]]
    assert await ids(c.spoke.headers, f"{patient}&date=ge2027-03-08T17:30:00Z") == [second["id"]]
    assert await ids(c.spoke.headers, f"{patient}&date=lt2027-03-08") == []
    assert await ids(c.spoke.headers, f"practitioner={c.consultant.id}&_count=1") == [first["id"]]
    assert await ids(other.headers, patient) == []
    paged = await fhir(
        client, "GET", f"Appointment?{patient}&_count=1", c.spoke.headers, expect=200
    )
    [next_link] = [link["url"] for link in paged["link"] if link["relation"] == "next"]
    following = await fhir(
        client, "GET", next_link.split("/fhir/r4/", 1)[1], c.spoke.headers, expect=200
    )
    assert [e["resource"]["id"] for e in following["entry"]] == [second["id"]]
    refused = await fhir(client, "GET", "Appointment?status=maybe", c.spoke.headers, expect=400)
    outcome_names(refused, "status")
    async with pool.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'read' AND record_type = 'booking'"
            " AND record_id = $1",
            first["id"],
        )
    assert audited >= 3


async def test_put_with_another_slot_moves_the_booking(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    proposals = await proposed(client, c)
    booked = await fhir(
        client,
        "POST",
        "Appointment/$book",
        c.spoke.headers,
        booking_params(proposal_at(proposals, MONDAY_9)),
        expect=201,
    )
    del booked["_headers"]
    later = proposal_at(proposals, MONDAY_10)
    moving = {**booked, "slot": later["slot"], "start": later["start"], "end": later["end"]}
    moved = await fhir(
        client, "PUT", f"Appointment/{booked['id']}", c.spoke.headers, moving, expect=200
    )
    assert (moved["id"], moved["start"]) == (booked["id"], MONDAY_10)
    assert [r["start"].isoformat() for r in await _bookings(pool)] == ["2027-03-08T18:00:00+00:00"]


async def test_bad_booking_input_is_named_and_changes_nothing(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    h = c.spoke.headers
    # Not a Parameters resource at all.
    refused = await fhir(client, "POST", "Appointment/$book", h, wanted, expect=400)
    outcome_names(refused, "resourceType")
    # The Appointment missing, or something else in its place.
    refused = await fhir(client, "POST", "Appointment/$hold", h, parameters(), expect=422)
    outcome_names(refused, "appointment-resource")
    wrong = parameters(appointment_resource={"resource": {"resourceType": "Patient"}})
    refused = await fhir(client, "POST", "Appointment/$book", h, wrong, expect=422)
    outcome_names(refused, "appointment-resource")
    # A participant that is no Patient of this server, and one of another clinic.
    stranger = {
        **wanted,
        "participant": [{"actor": {"reference": "Patient/x"}, "status": "accepted"}],
    }
    refused = await fhir(
        client, "POST", "Appointment/$book", h, booking_params(stranger), expect=422
    )
    outcome_names(refused, "appointment-resource.participant[0].actor")
    other = await network.spoke()
    theirs = await network.patient(other)
    foreign = {
        **wanted,
        "participant": [{"actor": {"reference": f"Patient/{theirs.id}"}, "status": "accepted"}],
    }
    refused = await fhir(
        client, "POST", "Appointment/$book", h, booking_params(foreign), expect=422
    )
    outcome_names(refused, "appointment-resource.participant")
    # A $find for a patient of another clinic is 404, as reading them would be.
    body = find_params(c)
    body["parameter"][-1]["valueReference"]["reference"] = f"Patient/{theirs.id}"
    await fhir(client, "POST", "Appointment/$find", h, body, expect=404)
    # A malformed Idempotency-Key.
    refused = await fhir(
        client,
        "POST",
        "Appointment/$book",
        {**h, "Idempotency-Key": "has spaces"},
        booking_params(wanted),
        expect=400,
    )
    outcome_names(refused, "Idempotency-Key")
    assert await _bookings(pool) == []
