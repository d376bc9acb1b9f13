"""Publishing weekly hours and exceptions, and what slot search makes of them."""

from __future__ import annotations

import json
from datetime import time

from aiohttp.test_utils import TestClient

from tests.factories import Network, slot_starts

TWO_DAYS = "2027-03-10T00:00:00Z"


async def test_a_consultant_publishes_hours_and_slots_follow_them(
    client: TestClient, network: Network
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc], hours=())
    spoke = await network.spoke()
    assert await slot_starts(client, spoke.headers, svc.id, end=TWO_DAYS) == []

    published = await client.put(
        f"/api/v1/consultants/{consultant.id}/availability",
        json={
            "rules": [{"weekday": "tuesday", "start": "13:00", "end": "15:00"}],
            "exceptions": [
                {
                    "kind": "extra_hours",
                    "start": "2027-03-08T08:00:00-08:00",
                    "end": "2027-03-08T09:00:00-08:00",
                    "note": "Covering for a colleague",
                },
                {
                    "kind": "time_off",
                    "start": "2027-03-09T14:00:00-08:00",
                    "end": "2027-03-09T15:00:00-08:00",
                },
            ],
        },
        headers=network.consultant_headers(consultant.id),
    )

    assert published.status == 200, await published.text()
    body = await published.json()
    assert body["timezone"] == "America/Los_Angeles"
    assert body["rules"] == [
        {
            "weekday": "tuesday",
            "start": "13:00:00",
            "end": "15:00:00",
            "service_ids": None,
            "valid_from": None,
            "valid_until": None,
        }
    ]
    assert [e["kind"] for e in body["exceptions"]] == ["extra_hours", "time_off"]
    # Monday's extra hour, and Tuesday 13:00 (14:00 is time off).
    assert await slot_starts(client, spoke.headers, svc.id, end=TWO_DAYS) == [
        "2027-03-08T16:00:00Z",
        "2027-03-09T21:00:00Z",
    ]
    as_hub = await client.get(
        f"/api/v1/consultants/{consultant.id}/availability", headers=network.hub_admin_headers()
    )
    assert await as_hub.json() == body


async def test_a_clinic_sees_the_hours_but_not_the_hubs_notes_on_exceptions(
    client: TestClient, network: Network
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc], hours=())
    spoke = await network.spoke()
    path = f"/api/v1/consultants/{consultant.id}/availability"
    time_off = {
        "kind": "time_off",
        "start": "2027-03-09T14:00:00-08:00",
        "end": "2027-03-09T15:00:00-08:00",
        "note": "Family leave",
    }
    published = await client.put(
        path,
        json={"rules": [], "exceptions": [time_off]},
        headers=network.consultant_headers(consultant.id),
    )
    assert published.status == 200, await published.text()
    assert (await published.json())["exceptions"][0]["note"] == "Family leave"

    seen = await (await client.get(path, headers=spoke.headers)).json()

    assert [e["note"] for e in seen["exceptions"]] == [None]
    assert "Family leave" not in json.dumps(seen)
    assert seen["exceptions"][0]["start"] == "2027-03-09T22:00:00Z"


async def test_rules_can_be_limited_to_some_services_and_some_dates(
    client: TestClient, network: Network
) -> None:
    video = await network.service()
    review = await network.service(kind="case_review", duration_minutes=30)
    consultant = await network.consultant([video, review], hours=())
    spoke = await network.spoke()
    published = await client.put(
        f"/api/v1/consultants/{consultant.id}/availability",
        json={
            "rules": [
                {"weekday": "monday", "start": "09:00", "end": "10:00", "service_ids": [review.id]},
                {"weekday": "monday", "start": "11:00", "end": "12:00", "valid_from": "2027-03-15"},
                {
                    "weekday": "tuesday",
                    "start": "09:00",
                    "end": "10:00",
                    "valid_until": "2027-03-09",
                },
            ]
        },
        headers=network.hub_admin_headers(),
    )
    assert published.status == 200
    assert await slot_starts(client, spoke.headers, video.id, end=TWO_DAYS) == [
        "2027-03-09T17:00:00Z"
    ]
    assert await slot_starts(client, spoke.headers, review.id, end=TWO_DAYS) == [
        "2027-03-08T17:00:00Z",
        "2027-03-08T17:30:00Z",
        "2027-03-09T17:00:00Z",
        "2027-03-09T17:30:00Z",
    ]


async def test_video_slots_need_the_patients_state_and_a_licence_there(
    client: TestClient, network: Network
) -> None:
    svc = await network.service()
    await network.consultant([svc], states=("WA",), hours=((0, time(9), time(10)),))
    spoke = await network.spoke()
    window = {"service_id": svc.id, "start": "2027-03-08T00:00:00Z", "end": "2027-03-09T00:00:00Z"}

    missing = await client.get("/api/v1/slots", params=window, headers=spoke.headers)
    vermont = await client.get(
        "/api/v1/slots", params={**window, "patient_state": "VT"}, headers=spoke.headers
    )
    washington = await client.get(
        "/api/v1/slots", params={**window, "patient_state": "wa"}, headers=spoke.headers
    )

    assert missing.status == 422
    assert (await missing.json())["errors"][0]["field"] == "patient_state"
    assert (await vermont.json())["slots"] == []
    assert len((await washington.json())["slots"]) == 1


async def test_consultants_can_be_listed_by_service_role_and_licence(
    client: TestClient, network: Network
) -> None:
    video = await network.service()
    counsel = await network.service(roles=["telehealth_counselor"])
    psychiatrist = await network.consultant([video], states=("VT",))
    counselor = await network.consultant([counsel], states=("WA",), role="telehealth_counselor")
    spoke = await network.spoke()

    async def ids(**params: object) -> list[int]:
        response = await client.get("/api/v1/consultants", params=params, headers=spoke.headers)
        return [c["id"] for c in (await response.json())["consultants"]]

    assert sorted(await ids()) == sorted([psychiatrist.id, counselor.id])
    assert await ids(service_id=counsel.id) == [counselor.id]
    assert await ids(role="psychiatric_consultant") == [psychiatrist.id]
    assert await ids(licensed_in="WA") == [counselor.id]


async def test_the_hub_admin_creates_services_and_consultants(
    client: TestClient, network: Network
) -> None:
    admin = network.hub_admin_headers()
    service = await client.post(
        "/api/v1/services",
        json={
            "kind": "econsult",
            "name": "E-consult: chronic pain and OUD",
            "duration_minutes": 30,
            "turnaround_hours": 72,
            "roles": ["addiction_medicine_specialist"],
        },
        headers=admin,
    )
    assert service.status == 201
    svc = await service.json()
    person = await client.post(
        "/api/v1/consultants",
        json={
            "name": "Ana Lima",
            "credentials": "MD",
            "role": "addiction_medicine_specialist",
            "timezone": "America/Denver",
            "licensed_states": ["nm", "CO"],
            "service_ids": [svc["id"]],
        },
        headers=admin,
    )
    assert person.status == 201
    assert (await person.json())["licensed_states"] == ["CO", "NM"]
    twice = await client.post(
        "/api/v1/services",
        json={
            "kind": "econsult",
            "name": "E-consult: chronic pain and OUD",
            "duration_minutes": 30,
            "turnaround_hours": 72,
            "roles": ["telehealth_counselor"],
        },
        headers=admin,
    )
    assert twice.status == 409
    no_sla = await client.post(
        "/api/v1/services",
        json={
            "kind": "econsult",
            "name": "Another",
            "duration_minutes": 30,
            "roles": ["telehealth_counselor"],
        },
        headers=admin,
    )
    assert no_sla.status == 422
    assert (await no_sla.json())["errors"][0]["field"] == "turnaround_hours"
    wrong_role = await client.post(
        "/api/v1/consultants",
        json={
            "name": "Kim",
            "role": "telehealth_counselor",
            "timezone": "America/Denver",
            "service_ids": [svc["id"]],
        },
        headers=admin,
    )
    assert wrong_role.status == 422
    assert (await wrong_role.json())["errors"][0]["field"] == "service_ids.0"
