"""The 1:1 waitlist API through the app: join (201), 422s naming the field with nothing
written, the clinic's own list, leave, another clinic can neither see nor leave, and a
cancellation through the API tells the waiting clinic."""

from __future__ import annotations

from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Bookable, Network, bookable, booking
from tests.http.problems import problem_of

MONDAY_8 = "2027-03-08T17:00:00Z"  # 09:00 in Los Angeles: the factory consultant's Monday


@pytest.fixture
async def setting(network: Network) -> Bookable:
    """A video service, a consultant free Mondays 9-12 in Los Angeles, a clinic and its patient."""
    return await bookable(network)


def body(s: Bookable, **fields: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "service_id": s.service.id,
        "patient_state": "VT",
        "latest_date": "2027-03-10",
        "patient_id": str(s.patient.id),
    }
    values.update(fields)
    return {k: v for k, v in values.items() if v is not None}


async def join(client: TestClient, s: Bookable, **fields: Any) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/waitlist", json=body(s, **fields), headers=s.spoke.headers
    )
    assert response.status == 201, await response.text()
    assert response.headers["Location"].endswith(
        f"/api/v1/waitlist/{(await response.json())['id']}"
    )
    return dict(await response.json())


async def test_join_list_and_leave(client: TestClient, setting: Bookable) -> None:
    joined = await join(client, setting, consultant_id=setting.consultant.id)
    assert joined["status"] == "waiting"
    assert joined["told"] is None
    listed = await client.get("/api/v1/waitlist", headers=setting.spoke.headers)
    assert [r["id"] for r in (await listed.json())["requests"]] == [joined["id"]]

    left = await client.post(
        f"/api/v1/waitlist/{joined['id']}/leave", headers=setting.spoke.headers
    )
    assert left.status == 200
    assert (await left.json())["status"] == "left"
    again = await client.post(
        f"/api/v1/waitlist/{joined['id']}/leave", headers=setting.spoke.headers
    )
    assert (await again.json())["status"] == "left"
    listed = await client.get("/api/v1/waitlist", headers=setting.spoke.headers)
    assert (await listed.json())["requests"] == []
    everything = await client.get(
        "/api/v1/waitlist", params={"include_left": "true"}, headers=setting.spoke.headers
    )
    assert len((await everything.json())["requests"]) == 1


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"service_id": 999_999}, "service_id"),
        ({"latest_date": "2027-02-28"}, "latest_date"),
        ({"consultant_id": 1, "role": "telehealth_counselor"}, "consultant_id"),
        ({"patient_state": "XX"}, "patient_state"),
        ({"latest_date": "soon"}, "latest_date"),
        ({"role": "wizard"}, "role"),
    ],
)
async def test_refusals_name_the_field_and_write_nothing(
    client: TestClient,
    setting: Bookable,
    conn: asyncpg.Connection,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = await client.post(
        "/api/v1/waitlist", json=body(setting, **fields), headers=setting.spoke.headers
    )
    problem = await problem_of(response, 422)
    assert field in [e["field"] for e in problem["errors"]]
    assert await conn.fetchval("SELECT count(*) FROM slot_waitlist") == 0


async def test_another_clinic_cannot_see_or_leave(
    client: TestClient, setting: Bookable, network: Network
) -> None:
    joined = await join(client, setting)
    other = await network.spoke()
    listed = await client.get("/api/v1/waitlist", headers=other.headers)
    assert (await listed.json())["requests"] == []
    await problem_of(
        await client.get(f"/api/v1/waitlist/{joined['id']}", headers=other.headers), 404
    )
    refused = await client.post(f"/api/v1/waitlist/{joined['id']}/leave", headers=other.headers)
    await problem_of(refused, 404)
    mine = await client.get(f"/api/v1/waitlist/{joined['id']}", headers=setting.spoke.headers)
    assert (await mine.json())["status"] == "waiting"


async def test_a_patient_of_another_clinic_is_refused(
    client: TestClient, setting: Bookable, network: Network
) -> None:
    other = await network.spoke()
    response = await client.post("/api/v1/waitlist", json=body(setting), headers=other.headers)
    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["patient_id"]


async def test_a_cancellation_through_the_api_tells_the_waiting_clinic(
    client: TestClient, setting: Bookable, network: Network, conn: asyncpg.Connection
) -> None:
    booked = await booking(
        client,
        setting.spoke,
        service_id=setting.service.id,
        consultant_id=setting.consultant.id,
        patient_id=setting.patient.id,
        start=MONDAY_8,
    )
    waiting = await network.spoke()
    response = await client.post(
        "/api/v1/waitlist",
        json={
            "service_id": setting.service.id,
            "patient_state": "VT",
            "latest_date": "2027-03-08",
        },
        headers=waiting.headers,
    )
    assert response.status == 201
    joined = await response.json()
    # Other Monday times are open already: only the time the cancellation frees is news.
    cancelled = await client.post(
        f"/api/v1/bookings/{booked['id']}/cancel",
        json={"reason": "Patient asked"},
        headers=setting.spoke.headers,
    )
    assert cancelled.status == 200, await cancelled.text()
    told = await client.get(f"/api/v1/waitlist/{joined['id']}", headers=waiting.headers)
    answer = await told.json()
    assert answer["status"] == "told"
    assert answer["told"]["start"] == "2027-03-08T17:00:00Z"
    assert answer["told"]["consultant_id"] == setting.consultant.id
    spokes = await conn.fetch("SELECT spoke_id FROM outbox WHERE event_type = 'slot.opened'")
    assert [r["spoke_id"] for r in spokes] == [waiting.id]


async def test_the_openapi_document_describes_the_waitlist(client: TestClient) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    assert {"/api/v1/waitlist", "/api/v1/waitlist/{id}", "/api/v1/waitlist/{id}/leave"} <= set(
        document["paths"]
    )


async def test_a_retried_join_with_the_same_key_adds_one_request(
    client: TestClient, setting: Bookable, conn: asyncpg.Connection
) -> None:
    headers = {**setting.spoke.headers, "Idempotency-Key": "join-once"}
    first = await client.post("/api/v1/waitlist", json=body(setting), headers=headers)
    again = await client.post("/api/v1/waitlist", json=body(setting), headers=headers)
    assert first.status == again.status == 201
    assert (await first.json())["id"] == (await again.json())["id"]
    assert await conn.fetchval("SELECT count(*) FROM slot_waitlist") == 1
