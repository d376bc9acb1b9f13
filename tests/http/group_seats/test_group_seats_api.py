"""The seats and waitlist API of a group through the app: enrol (201, replay, 409 group-full,
404 another clinic's patient, 422s naming the field), withdraw and excuse, the waitlist, and
what a clinic reads of another clinic's patients (nothing)."""

from __future__ import annotations

import json
import uuid
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.factories import Network, SpokeUser
from tests.factories.groups import group, seats_held
from tests.http.problems import problem_of


async def enrol(
    client: TestClient,
    spoke: SpokeUser,
    group_id: uuid.UUID,
    body: dict[str, Any],
    key: str | None = None,
) -> ClientResponse:
    """POST /api/v1/groups/{id}/seats with an Idempotency-Key."""
    headers = {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post(f"/api/v1/groups/{group_id}/seats", json=body, headers=headers)


async def test_enrol_answers_201_with_a_seat_per_occurrence_and_its_location(
    client: TestClient, network: Network
) -> None:
    made = await group(network, capacity=3, count=3)
    spoke = await network.spoke()
    patient = await network.patient(spoke)

    response = await enrol(client, spoke, made.id, {"patient_id": str(patient.id), "from": 2})

    assert response.status == 201, await response.text()
    body = await response.json()
    assert response.headers["Location"] == f"/api/v1/groups/{made.id}/seats/{body['id']}"
    assert [(s["position"], s["seat_no"], s["attendance"]) for s in body["seats"]] == [
        (2, 1, "expected"),
        (3, 1, "expected"),
    ]
    read = await client.get(response.headers["Location"], headers=spoke.headers)
    assert read.status == 200 and (await read.json())["id"] == body["id"]


async def test_the_same_key_replays_the_first_answer_and_enrols_once(
    client: TestClient, pool: asyncpg.Pool, network: Network
) -> None:
    made = await group(network, capacity=3, count=2)
    spoke = await network.spoke()
    body = {"patient_id": str((await network.patient(spoke)).id)}

    first = await enrol(client, spoke, made.id, body, key="seat-1")
    again = await enrol(client, spoke, made.id, body, key="seat-1")

    assert (first.status, again.status) == (201, 201)
    assert await first.text() == await again.text()
    async with pool.acquire() as conn:
        assert await seats_held(conn, made.id) == {1: [1], 2: [1]}
    missing = await client.post(f"/api/v1/groups/{made.id}/seats", json=body, headers=spoke.headers)
    assert (await problem_of(missing, 400))["detail"]


async def test_a_full_group_answers_409_group_full_naming_the_occurrence(
    client: TestClient, network: Network
) -> None:
    made = await group(network, capacity=2, count=2)
    spokes = [await network.spoke() for _ in range(3)]
    for s in spokes[:2]:
        ok = await enrol(client, s, made.id, {"patient_id": str((await network.patient(s)).id)})
        assert ok.status == 201
    late = await network.patient(spokes[2])

    problem = await problem_of(
        await enrol(client, spokes[2], made.id, {"patient_id": str(late.id)}), 409
    )

    assert problem["type"] == "/problems/group-full"
    assert [f["position"] for f in problem["full"]] == [1, 2]
    described = await client.get("/problems/group-full")
    assert described.status == 200


async def test_bad_input_is_422_naming_the_field_and_another_clinics_patient_404(
    client: TestClient, network: Network
) -> None:
    made = await group(network, capacity=2, count=2, states=("VT",))
    spoke, other = await network.spoke(), await network.spoke()
    theirs = await network.patient(other)
    in_texas = await network.patient(spoke, state="TX")
    mine = await network.patient(spoke)

    cases = [
        ({"patient_id": "not-a-uuid"}, "patient_id"),
        ({"patient_id": str(mine.id), "from": 0}, "from"),
        ({"patient_id": str(mine.id), "from": 9}, "from"),
        ({"patient_id": str(in_texas.id)}, "patient_id"),
    ]
    for body, field in cases:
        problem = await problem_of(await enrol(client, spoke, made.id, body), 422)
        assert [e["field"] for e in problem["errors"]] == [field], body
    await problem_of(await enrol(client, spoke, made.id, {"patient_id": str(theirs.id)}), 404)
    await problem_of(await enrol(client, spoke, uuid.uuid4(), {"patient_id": str(mine.id)}), 404)


async def test_withdraw_and_excuse_through_the_api_and_another_clinic_cannot(
    client: TestClient, pool: asyncpg.Pool, network: Network
) -> None:
    made = await group(network, capacity=2, count=3)
    spoke, other = await network.spoke(), await network.spoke()
    patient = await network.patient(spoke)
    enrolled = await (await enrol(client, spoke, made.id, {"patient_id": str(patient.id)})).json()
    base = f"/api/v1/groups/{made.id}/seats/{enrolled['id']}"

    await problem_of(
        await client.post(f"{base}/excuse", json={"position": 2}, headers=other.headers), 404
    )
    await problem_of(await client.get(base, headers=other.headers), 404)
    excused = await client.post(f"{base}/excuse", json={"position": 2}, headers=spoke.headers)
    assert excused.status == 200, await excused.text()
    assert [s["attendance"] for s in (await excused.json())["seats"]] == [
        "expected",
        "excused",
        "expected",
    ]
    bad = await client.post(f"{base}/withdraw", json={"from": "x"}, headers=spoke.headers)
    assert [e["field"] for e in (await problem_of(bad, 422))["errors"]] == ["from"]

    withdrawn = await client.post(f"{base}/withdraw", json={"from": 2}, headers=spoke.headers)

    assert withdrawn.status == 200, await withdrawn.text()
    assert (await withdrawn.json())["withdrawn_from"] == 2
    async with pool.acquire() as conn:
        assert await seats_held(conn, made.id) == {1: [1]}


async def test_the_waitlist_through_the_api_and_the_assigned_seat(
    client: TestClient, pool: asyncpg.Pool, network: Network
) -> None:
    made = await group(network, capacity=2, count=2)
    seated_spoke, waiting_spoke = await network.spoke(), await network.spoke()
    seated = [await network.patient(seated_spoke) for _ in range(2)]
    enrolled = [
        await (await enrol(client, seated_spoke, made.id, {"patient_id": str(p.id)})).json()
        for p in seated
    ]
    waiting = await network.patient(waiting_spoke)
    also = await network.patient(waiting_spoke)
    wait = f"/api/v1/groups/{made.id}/waitlist"

    joined = await client.post(
        wait, json={"patient_id": str(waiting.id)}, headers=waiting_spoke.headers
    )
    second = await client.post(
        wait, json={"patient_id": str(also.id)}, headers=waiting_spoke.headers
    )
    assert (joined.status, second.status) == (201, 201), await joined.text()
    place = await joined.json()
    assert (place["status"], place["place"]) == ("waiting", 1)
    assert joined.headers["Location"] == f"{wait}/{place['id']}"
    await problem_of(
        await client.post(
            wait, json={"patient_id": str(waiting.id)}, headers=waiting_spoke.headers
        ),
        409,
    )
    left = await client.post(
        f"{wait}/{(await second.json())['id']}/leave", headers=waiting_spoke.headers
    )
    assert (await left.json())["status"] == "left"

    withdrawn = await client.post(
        f"/api/v1/groups/{made.id}/seats/{enrolled[0]['id']}/withdraw",
        json={"from": 1},
        headers=seated_spoke.headers,
    )
    assert withdrawn.status == 200, await withdrawn.text()

    now = await (await client.get(joined.headers["Location"], headers=waiting_spoke.headers)).json()
    assert now["status"] == "assigned" and now["place"] is None
    seat = await client.get(
        f"/api/v1/groups/{made.id}/seats/{now['enrolment_id']}", headers=waiting_spoke.headers
    )
    assert [s["position"] for s in (await seat.json())["seats"]] == [1, 2]
    await problem_of(
        await client.get(joined.headers["Location"], headers=seated_spoke.headers), 404
    )
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT spoke_id, payload FROM outbox")
    assert [r["spoke_id"] for r in rows] == [waiting_spoke.id]
    text = (
        rows[0]["payload"]
        if isinstance(rows[0]["payload"], str)
        else json.dumps(rows[0]["payload"])
    )
    assert str(waiting.id) in text
    assert all(str(p.id) not in text for p in (*seated, also))
