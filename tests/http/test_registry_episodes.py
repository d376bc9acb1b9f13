"""Enrolling, reading and closing episodes through the API: each refusal names its field and
writes nothing, another clinic's patient or episode is 404 on every endpoint, reads audited."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, care_clinic, care_manager
from tests.factories.care import enrolled, enrolment, fields_named, registry_counts


async def _enrol(client: TestClient, clinic: Any, patient_id: object, body: dict[str, Any]) -> Any:
    return await client.post(
        f"/api/v1/patients/{patient_id}/episodes", json=body, headers=clinic.spoke.headers
    )


async def test_enrol_answers_201_with_location_and_the_episode(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)

    response = await _enrol(client, clinic, patient.id, enrolment(clinic))
    body = await response.json()

    assert response.status == 201
    assert response.headers["Location"].endswith(f"/api/v1/episodes/{body['id']}")
    assert body["patient_id"] == str(patient.id)
    assert body["program"] == "collaborative_care"
    assert body["care_manager_id"] == clinic.care_manager.id
    assert body["started_on"] == "2027-02-01"
    assert body["ended_on"] is None
    async with pool.acquire() as conn:
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'create' AND record_type = 'episode'"
            " AND record_id = $1",
            body["id"],
        )
    assert audited == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"program": "smoking"}, "program"),
        ({"treating_clinician": ""}, "treating_clinician"),
        ({"started_on": "2027-03-02"}, "started_on"),  # tomorrow in New York
        ({"care_manager_id": None}, "care_manager_id"),
        ({"consultant_id": 10**9}, "consultant_id"),
        ({"score": 3}, "score"),
    ],
)
async def test_a_bad_enrolment_field_is_named_and_nothing_is_written(
    client: TestClient, network: Network, pool: asyncpg.Pool, change: dict[str, Any], field: str
) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    before = await registry_counts(pool)

    response = await _enrol(client, clinic, patient.id, enrolment(clinic, **change))

    assert response.status == 422
    assert response.content_type == "application/problem+json"
    assert fields_named(await response.json()) == [field]
    assert await registry_counts(pool) == before


async def test_the_care_manager_must_be_a_care_manager_of_this_clinic(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic = await care_clinic(network)
    other = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    email, _ = await network.user("spoke_clinician", spoke_id=clinic.spoke.id)
    async with pool.acquire() as conn:
        clinician_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    before = await registry_counts(pool)

    for wrong in (other.care_manager.id, clinician_id):
        response = await _enrol(
            client, clinic, patient.id, enrolment(clinic, care_manager_id=wrong)
        )
        assert response.status == 422
        assert fields_named(await response.json()) == ["care_manager_id"]
    assert await registry_counts(pool) == before


async def test_the_consultant_must_be_active_and_of_a_role_the_program_takes(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    counselor = await network.consultant([], role="telehealth_counselor")
    addiction = await network.consultant([], role="addiction_medicine_specialist")
    inactive = await network.consultant([])
    async with pool.acquire() as conn:
        await conn.execute("UPDATE consultants SET active = false WHERE id = $1", inactive.id)

    refused = [
        ("collaborative_care", counselor.id),
        ("collaborative_care", addiction.id),
        ("oud", counselor.id),
        ("collaborative_care", inactive.id),
    ]
    for program, consultant_id in refused:
        body = enrolment(clinic, program=program, consultant_id=consultant_id)
        response = await _enrol(client, clinic, patient.id, body)
        assert response.status == 422, (program, consultant_id)
        assert fields_named(await response.json()) == ["consultant_id"]
    assert (await registry_counts(pool))["episodes"] == 0

    oud = await _enrol(
        client, clinic, patient.id, enrolment(clinic, program="oud", consultant_id=addiction.id)
    )
    assert oud.status == 201


async def test_a_second_open_episode_of_a_program_is_409_and_another_program_is_fine(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, first = await enrolled(client, network)
    patient_id = first["patient_id"]
    before = await registry_counts(pool)

    again = await _enrol(client, clinic, patient_id, enrolment(clinic))
    assert again.status == 409
    assert await registry_counts(pool) == before

    addiction = await network.consultant([], role="addiction_medicine_specialist")
    oud = await _enrol(
        client, clinic, patient_id, enrolment(clinic, program="oud", consultant_id=addiction.id)
    )
    assert oud.status == 201

    closed = await client.post(
        f"/api/v1/episodes/{first['id']}/close",
        json={"ended_on": "2027-03-01", "end_reason": "remission"},
        headers=clinic.spoke.headers,
    )
    assert closed.status == 200
    reopened = await _enrol(client, clinic, patient_id, enrolment(clinic, started_on="2027-03-01"))
    assert reopened.status == 201


async def test_an_idempotency_key_replays_the_enrolment(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    headers = {**clinic.spoke.headers, "Idempotency-Key": "enrol-1"}
    url = f"/api/v1/patients/{patient.id}/episodes"

    first = await client.post(url, json=enrolment(clinic), headers=headers)
    second = await client.post(url, json=enrolment(clinic), headers=headers)

    assert first.status == second.status == 201
    assert (await first.json())["id"] == (await second.json())["id"]
    assert (await registry_counts(pool))["episodes"] == 1


async def test_the_hub_cannot_enrol(client: TestClient, network: Network) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    response = await client.post(
        f"/api/v1/patients/{patient.id}/episodes",
        json=enrolment(clinic),
        headers=network.hub_admin_headers(),
    )
    assert response.status == 403


async def test_closing_refuses_bad_dates_and_reasons_then_a_second_close_is_409(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    url = f"/api/v1/episodes/{episode['id']}/close"
    before = await registry_counts(pool)

    for body, field in [
        ({"ended_on": "2027-01-31", "end_reason": "remission"}, "ended_on"),
        ({"ended_on": "2027-03-02", "end_reason": "remission"}, "ended_on"),
        ({"ended_on": "2027-03-01", "end_reason": "bored"}, "end_reason"),
        ({"ended_on": "2027-03-01"}, "end_reason"),
    ]:
        response = await client.post(url, json=body, headers=clinic.spoke.headers)
        assert response.status == 422, body
        assert fields_named(await response.json()) == [field]
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT ended_on FROM episodes") is None
    assert await registry_counts(pool) == before

    ok = await client.post(
        url,
        json={"ended_on": "2027-03-01", "end_reason": "transferred"},
        headers=clinic.spoke.headers,
    )
    assert ok.status == 200
    assert (await ok.json())["end_reason"] == "transferred"
    again = await client.post(
        url,
        json={"ended_on": "2027-03-01", "end_reason": "remission"},
        headers=clinic.spoke.headers,
    )
    assert again.status == 409


async def test_episodes_of_a_patient_list_open_and_closed(
    client: TestClient, network: Network
) -> None:
    clinic, first = await enrolled(client, network, started_on="2027-01-04")
    await client.post(
        f"/api/v1/episodes/{first['id']}/close",
        json={"ended_on": "2027-02-01", "end_reason": "remission"},
        headers=clinic.spoke.headers,
    )
    second = await client.post(
        f"/api/v1/patients/{first['patient_id']}/episodes",
        json=enrolment(clinic, started_on="2027-02-15"),
        headers=clinic.spoke.headers,
    )
    second_id = (await second.json())["id"]

    listed = await client.get(
        f"/api/v1/patients/{first['patient_id']}/episodes", headers=clinic.spoke.headers
    )

    assert listed.status == 200
    episodes = (await listed.json())["episodes"]
    assert [e["id"] for e in episodes] == [second_id, first["id"]]
    assert [e["end_reason"] for e in episodes] == [None, "remission"]


async def test_another_clinics_patient_and_episode_are_404_on_every_endpoint(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    ours, episode = await enrolled(client, network)
    theirs = await care_clinic(network, consultant=ours.consultant)
    h = theirs.spoke.headers
    eid, pid = episode["id"], episode["patient_id"]
    before = await registry_counts(pool)

    answers = [
        await client.get(f"/api/v1/episodes/{eid}", headers=h),
        await client.get(f"/api/v1/patients/{pid}/episodes", headers=h),
        await client.post(f"/api/v1/patients/{pid}/episodes", json=enrolment(theirs), headers=h),
        await client.post(
            f"/api/v1/episodes/{eid}/close",
            json={"ended_on": "2027-03-01", "end_reason": "remission"},
            headers=h,
        ),
        await client.post(
            f"/api/v1/episodes/{eid}/measures",
            json={"kind": "phq9", "measured_on": "2027-03-01", "items": [1] * 9},
            headers=h,
        ),
        await client.post(
            f"/api/v1/episodes/{eid}/contacts",
            json={
                "contact_on": "2027-03-01",
                "minutes": 10,
                "kind": "phone",
                "who": "patient",
                "counts": True,
            },
            headers=h,
        ),
        await client.get(f"/api/v1/episodes/{uuid.uuid4()}", headers=ours.spoke.headers),
    ]

    assert [a.status for a in answers] == [404] * len(answers)
    assert await registry_counts(pool) == before
    async with pool.acquire() as conn:
        leaked = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE record_id = $1 AND actor LIKE 'client:%'"
            " AND actor <> $2",
            eid,
            "client:" + ours.spoke.client_id,
        )
    assert leaked == 0


async def test_reading_an_episode_audits_it_its_measures_and_contacts(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    eid = episode["id"]
    measured = await client.post(
        f"/api/v1/episodes/{eid}/measures",
        json={"kind": "gad7", "measured_on": "2027-02-15", "items": [1] * 7},
        headers=clinic.spoke.headers,
    )
    contacted = await client.post(
        f"/api/v1/episodes/{eid}/contacts",
        json={
            "contact_on": "2027-02-16",
            "minutes": 25,
            "kind": "video",
            "who": "patient and partner",
            "counts": True,
        },
        headers=clinic.spoke.headers,
    )
    mid, cid = (await measured.json())["id"], (await contacted.json())["id"]

    read = await client.get(f"/api/v1/episodes/{eid}", headers=network.hub_admin_headers())
    body = await read.json()

    assert read.status == 200
    assert [m["id"] for m in body["measures"]] == [mid]
    assert body["measures"][0]["score"] == 7
    assert [c["id"] for c in body["contacts"]] == [cid]
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT record_type, record_id, spoke_id FROM audit_log"
            " WHERE action = 'read' AND actor = 'client:hub-test'"
        )
    assert {(r["record_type"], r["record_id"], r["spoke_id"]) for r in rows} == {
        ("episode", eid, clinic.spoke.id),
        ("care_measure", mid, clinic.spoke.id),
        ("care_contact", cid, clinic.spoke.id),
    }


async def test_a_care_manager_signed_in_is_a_clinic_caller(network: Network) -> None:
    clinic = await care_clinic(network)
    manager = await care_manager(network, clinic.spoke, name="Second Manager")
    assert manager.caller.spoke_id == clinic.spoke.id
    assert "registry:write" in manager.caller.scopes
