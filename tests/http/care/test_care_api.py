"""GET /api/v1/patients/{id}/care: a patient's record, newest first, every read audited, only
for the patient's own clinic."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.http.care.support import record_of
from tests.http.problems import problem_of


async def test_the_record_lists_bookings_econsults_and_notes_newest_first(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)

    response = await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=r.spoke.headers)

    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["patient"]["id"] == str(r.patient.id)
    assert body["patient"]["family_name"] == "Quimby"
    assert [(b["id"], b["status"], b["upcoming"], b["outcome"]) for b in body["bookings"]] == [
        (r.later["id"], "booked", True, None),
        (r.cancelled["id"], "cancelled", True, None),
        (r.soon["id"], "booked", True, None),
        (r.done, "completed", False, "completed"),
        (r.unrecorded, "booked", False, "not_recorded"),
    ]
    assert body["bookings"][0]["start"] == "2027-03-08T19:00:00Z"
    assert [e["id"] for e in body["econsults"]] == [
        r.second_econsult["id"],
        r.first_econsult["id"],
    ]
    assert [e["question"] for e in body["econsults"]] == ["Taper plan?", "Which induction?"]
    assert [(n["id"], n["status"], n["econsult_id"]) for n in body["notes"]] == [
        (r.note["id"], "signed", r.first_econsult["id"])
    ]


async def test_a_draft_note_is_not_part_of_the_clinics_record(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)
    hub = network.consultant_headers(r.consultant.id)
    amending = await client.post(
        f"/api/v1/econsults/{r.first_econsult['id']}/notes",
        json={"sections": {"assessment": "Amending."}},
        headers=hub,
    )
    assert amending.status == 201, await amending.text()

    body = await (
        await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=r.spoke.headers)
    ).json()

    assert [n["id"] for n in body["notes"]] == [r.note["id"]]


async def test_every_record_read_writes_an_audit_row_naming_the_request(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)

    response = await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=r.spoke.headers)

    assert response.status == 200
    rows = await conn.fetch(
        "SELECT record_type, record_id, actor, spoke_id FROM audit_log"
        " WHERE request_id = $1 AND action = 'read'",
        response.headers["X-Request-Id"],
    )
    read = {(row["record_type"], row["record_id"]) for row in rows}
    assert read == {
        ("patient", str(r.patient.id)),
        *(
            ("booking", i)
            for i in (r.soon["id"], r.later["id"], r.cancelled["id"], r.done, r.unrecorded)
        ),
        ("econsult", r.first_econsult["id"]),
        ("econsult", r.second_econsult["id"]),
        ("consult_note", r.note["id"]),
    }
    assert len(rows) == len(read)
    assert {(row["actor"], row["spoke_id"]) for row in rows} == {
        (f"client:{r.spoke.client_id}", r.spoke.id)
    }


async def test_another_clinics_patient_answers_like_an_unknown_one_and_nothing_is_audited(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)
    rival = await network.spoke()

    theirs = await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=rival.headers)
    unknown = await client.get(f"/api/v1/patients/{uuid.uuid4()}/care", headers=rival.headers)

    theirs_problem = await problem_of(theirs, 404)
    unknown_problem = await problem_of(unknown, 404)
    assert theirs_problem["detail"] == unknown_problem["detail"] == "no such patient"
    read_by_rival = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE actor = $1", f"client:{rival.client_id}"
    )
    assert read_by_rival == 0


async def test_a_malformed_id_answers_404_and_the_hub_is_refused(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)

    malformed = await client.get("/api/v1/patients/not-a-uuid/care", headers=r.spoke.headers)
    hub = await client.get(
        f"/api/v1/patients/{r.patient.id}/care", headers=network.hub_admin_headers()
    )

    await problem_of(malformed, 404)
    assert hub.status == 403


async def test_the_openapi_document_names_the_record_and_its_output(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()

    operation = doc["paths"]["/api/v1/patients/{id}/care"]["get"]
    assert operation["operationId"] == "get_patient_care"
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    name = schema["$ref"].rsplit("/", 1)[-1]
    fields = doc["components"]["schemas"][name]["properties"]
    assert {"patient", "bookings", "econsults", "notes"} <= set(fields)
    assert "404" in operation["responses"]
