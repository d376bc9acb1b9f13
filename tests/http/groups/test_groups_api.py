"""POST/GET /api/v1/groups and POST /api/v1/groups/{id}/cancel through the app: made by the
hub, found by clinics, a clinic's view holding only its own patients' seats, 422s naming the
field, cancelled from an occurrence on."""

from __future__ import annotations

import uuid
from datetime import time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, SpokeUser
from tests.factories.groups import enrol
from tests.http.problems import problem_of

FIRST = "2027-03-08T18:00:00-05:00"  # Monday 8 March 2027, 18:00 in New York
WINDOW = {"start": "2027-03-01T00:00:00Z", "end": "2027-04-30T00:00:00Z"}


class Setting:
    """A group service, a New York counselor offering it, two Vermont clinics."""

    service_id: int
    video_id: int
    counselor_id: int
    clinics: list[SpokeUser]

    def body(self, **fields: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "service_id": self.service_id,
            "consultant_id": self.counselor_id,
            "title": "MOUD support group · Mondays 18:00",
            "capacity": 6,
            "first_start": FIRST,
            "repeat": "weekly",
            "count": 3,
        }
        values.update(fields)
        return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
async def setting(network: Network) -> Setting:
    """The group's parties; the clock (Monday 1 March 2027) is a week before it starts."""
    s = Setting()
    service = await network.service(kind="group_session", name="MOUD support group")
    video = await network.service(kind="video_session", name="Counseling")
    counselor = await network.consultant(
        [service, video],
        timezone="America/New_York",
        states=("VT", "NY"),
        hours=((0, time(9), time(20)),),
        role="telehealth_counselor",
    )
    s.service_id, s.video_id, s.counselor_id = service.id, video.id, counselor.id
    s.clinics = [await network.spoke(), await network.spoke()]
    return s


async def _create(
    client: TestClient, headers: dict[str, str], body: dict[str, Any], key: str | None = None
) -> Any:
    return await client.post(
        "/api/v1/groups",
        json=body,
        headers={**headers, "Idempotency-Key": key or uuid.uuid4().hex},
    )


async def _made(client: TestClient, network: Network, s: Setting, **fields: Any) -> dict[str, Any]:
    response = await _create(client, network.hub_admin_headers(), s.body(**fields))
    assert response.status == 201, await response.text()
    made: dict[str, Any] = await response.json()
    return made


async def test_the_hub_makes_a_group_and_every_occurrence_is_listed(
    client: TestClient, network: Network, setting: Setting
) -> None:
    key = uuid.uuid4().hex
    response = await _create(client, network.hub_admin_headers(), setting.body(), key)
    made = await response.json()
    again = await _create(client, network.hub_admin_headers(), setting.body(), key)

    assert response.status == 201, made
    assert response.headers["Location"].endswith(f"/api/v1/groups/{made['id']}")
    assert made["title"] == "MOUD support group · Mondays 18:00"
    assert made["zone"] == "America/New_York"
    assert [(o["position"], o["start"], o["status"]) for o in made["occurrences"]] == [
        (1, "2027-03-08T23:00:00Z", "scheduled"),
        (2, "2027-03-15T22:00:00Z", "scheduled"),  # 18:00 on daylight time
        (3, "2027-03-22T22:00:00Z", "scheduled"),
    ]
    assert {(o["seats_taken"], o["capacity"]) for o in made["occurrences"]} == {(0, 6)}
    assert (again.status, (await again.json())["id"]) == (201, made["id"])  # a replay


async def test_the_counselor_makes_their_own_group_and_not_another_counselors(
    client: TestClient, network: Network, setting: Setting
) -> None:
    own = await _create(client, network.consultant_headers(setting.counselor_id), setting.body())
    other = await _create(
        client, network.consultant_headers(setting.counselor_id + 1000), setting.body(count=1)
    )

    assert own.status == 201, await own.text()
    await problem_of(other, 403)


async def test_a_clinic_cannot_make_or_cancel_a_group(
    client: TestClient, network: Network, setting: Setting
) -> None:
    made = await _made(client, network, setting)
    clinic = setting.clinics[0].headers

    await problem_of(await _create(client, clinic, setting.body()), 403)
    cancel = await client.post(
        f"/api/v1/groups/{made['id']}/cancel", json={"from": 1, "reason": "x"}, headers=clinic
    )
    await problem_of(cancel, 403)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"capacity": 1}, "capacity"),
        ({"capacity": 31}, "capacity"),
        ({"title": ""}, "title"),
        ({"title": "a\nb"}, "title"),
        ({"until": "2027-03-31"}, "count"),  # both count and until
        ({"repeat": "once", "count": 2}, "count"),
        ({"repeat": "fortnightly"}, "repeat"),
        ({"count": None, "until": "2027-03-01"}, "until"),  # before the first
        ({"count": None, "until": "2029-12-31"}, "until"),  # more than 52
        ({"first_start": "2027-02-22T18:00:00-05:00"}, "first_start"),  # passed
        ({"first_start": "2027-03-08T18:00:00"}, "first_start"),  # no offset
        ({"consultant_id": 987654}, "consultant_id"),
    ],
)
async def test_a_group_that_cannot_be_is_a_422_naming_the_field_and_nothing_is_made(
    client: TestClient,
    network: Network,
    setting: Setting,
    conn: asyncpg.Connection,
    fields: dict[str, Any],
    field: str,
) -> None:
    response = await _create(client, network.hub_admin_headers(), setting.body(**fields))

    problem = await problem_of(response, 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert await conn.fetchval("SELECT count(*) FROM groups") == 0


async def test_a_one_to_one_service_is_not_a_group_and_a_group_service_is_not_booked_alone(
    client: TestClient, network: Network, setting: Setting
) -> None:
    clinic = setting.clinics[0]
    patient = await network.patient(clinic)

    not_a_group = await _create(
        client, network.hub_admin_headers(), setting.body(service_id=setting.video_id)
    )
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": setting.service_id,
            "consultant_id": setting.counselor_id,
            "patient_id": str(patient.id),
            "start": FIRST,
        },
        headers={**clinic.headers, "Idempotency-Key": uuid.uuid4().hex},
    )

    assert [e["field"] for e in (await problem_of(not_a_group, 422))["errors"]] == ["service_id"]
    assert [e["field"] for e in (await problem_of(booked, 422))["errors"]] == ["service_id"]


async def test_a_group_over_a_booking_is_a_409_naming_the_occurrence(
    client: TestClient, network: Network, setting: Setting, conn: asyncpg.Connection
) -> None:
    clinic = setting.clinics[0]
    patient = await network.patient(clinic)
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": setting.video_id,
            "consultant_id": setting.counselor_id,
            "patient_id": str(patient.id),
            "start": "2027-03-22T18:00:00-04:00",  # the third occurrence
        },
        headers={**clinic.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert booked.status == 201, await booked.text()

    problem = await problem_of(
        await _create(client, network.hub_admin_headers(), setting.body()), 409
    )

    assert problem["type"] == "/problems/group-time-taken"
    assert [(t["position"], t["held_by"]) for t in problem["taken"]] == [(3, "booking")]
    assert str(patient.id) not in str(problem)
    assert await conn.fetchval("SELECT count(*) FROM groups") == 0


async def test_a_clinic_sees_seats_taken_and_only_its_own_patients_seats(
    client: TestClient, network: Network, setting: Setting
) -> None:
    made = await _made(client, network, setting)
    mine, theirs = setting.clinics
    my_patient = await network.patient(mine)
    their_patients = [await network.patient(theirs) for _ in range(2)]
    await enrol(network, mine, uuid.UUID(made["id"]), my_patient.id)
    for p in their_patients:
        await enrol(network, theirs, uuid.UUID(made["id"]), p.id)

    seen = await (await client.get(f"/api/v1/groups/{made['id']}", headers=mine.headers)).json()
    hub = await (
        await client.get(f"/api/v1/groups/{made['id']}", headers=network.hub_admin_headers())
    ).json()
    counselor = await (
        await client.get(
            f"/api/v1/groups/{made['id']}",
            headers=network.consultant_headers(setting.counselor_id),
        )
    ).json()
    other_counselor = await client.get(
        f"/api/v1/groups/{made['id']}", headers=network.consultant_headers(setting.counselor_id + 9)
    )

    first = seen["occurrences"][0]
    assert first["seats_taken"] == 3
    assert [(s["spoke_id"], s["patient_id"]) for s in first["roster"]] == [
        (mine.id, str(my_patient.id))
    ]
    assert all(str(p.id) not in str(seen) for p in their_patients)
    assert all(
        str(theirs.id) != str(s["spoke_id"]) for o in seen["occurrences"] for s in o["roster"]
    )
    assert len(hub["occurrences"][0]["roster"]) == 3
    assert len(counselor["occurrences"][0]["roster"]) == 3
    await problem_of(other_counselor, 404)


async def test_find_lists_groups_with_an_open_seat_for_a_licensed_counselor(
    client: TestClient, network: Network, setting: Setting
) -> None:
    made = await _made(client, network, setting, capacity=2, count=1, repeat="once")
    clinic = setting.clinics[0]

    async def find(**params: Any) -> Any:
        query = {"service_id": setting.service_id, **WINDOW, "patient_state": "VT", **params}
        return await client.get("/api/v1/groups", params=query, headers=clinic.headers)

    open_now = await (await find()).json()
    far = await (await find(patient_state="TX")).json()  # not licensed there
    for _ in range(2):
        await enrol(
            network,
            setting.clinics[1],
            uuid.UUID(made["id"]),
            (await network.patient(setting.clinics[1])).id,
        )
    full = await (await find()).json()

    assert [g["id"] for g in open_now["groups"]] == [made["id"]]
    assert far["groups"] == []
    assert full["groups"] == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"patient_state": "XX"}, "patient_state"),
        ({"end": "2027-02-01T00:00:00Z"}, "end"),
        ({"service_id": "one"}, "service_id"),
        ({"start": "soon"}, "start"),
    ],
)
async def test_a_search_that_cannot_be_is_a_422_naming_the_field(
    client: TestClient, network: Network, setting: Setting, params: dict[str, Any], field: str
) -> None:
    query = {"service_id": setting.service_id, **WINDOW, "patient_state": "VT", **params}

    response = await client.get("/api/v1/groups", params=query, headers=setting.clinics[0].headers)

    assert field in [e["field"] for e in (await problem_of(response, 422))["errors"]]


async def test_cancel_from_an_occurrence_keeps_the_earlier_and_frees_the_time(
    client: TestClient, network: Network, setting: Setting
) -> None:
    made = await _made(client, network, setting)
    path = f"/api/v1/groups/{made['id']}/cancel"
    hub = network.hub_admin_headers()

    beyond = await client.post(path, json={"from": 4, "reason": "x"}, headers=hub)
    no_reason = await client.post(path, json={"from": 2, "reason": ""}, headers=hub)
    cancelled = await client.post(path, json={"from": 2, "reason": "Counselor leaves"}, headers=hub)
    again = await client.post(path, json={"from": 2, "reason": "Counselor leaves"}, headers=hub)
    slots = await client.get(
        "/api/v1/slots",
        params={
            "service_id": setting.video_id,
            "start": "2027-03-15T00:00:00Z",
            "end": "2027-03-16T12:00:00Z",
            "patient_state": "VT",
        },
        headers=setting.clinics[0].headers,
    )

    assert [e["field"] for e in (await problem_of(beyond, 422))["errors"]] == ["from"]
    assert [e["field"] for e in (await problem_of(no_reason, 422))["errors"]] == ["reason"]
    assert cancelled.status == 200, await cancelled.text()
    body = await cancelled.json()
    assert [o["status"] for o in body["occurrences"]] == ["scheduled", "cancelled", "cancelled"]
    await problem_of(again, 409)
    assert "2027-03-15T22:00:00Z" in [s["start"] for s in (await slots.json())["slots"]]


async def test_an_unknown_group_is_a_404(
    client: TestClient, network: Network, setting: Setting
) -> None:
    response = await client.get(
        f"/api/v1/groups/{uuid.uuid4()}", headers=setting.clinics[0].headers
    )

    await problem_of(response, 404)


async def test_a_group_service_has_no_one_to_one_slots_to_search(
    client: TestClient, network: Network, setting: Setting
) -> None:
    response = await client.get(
        "/api/v1/slots",
        params={"service_id": setting.service_id, **WINDOW, "patient_state": "VT"},
        headers=setting.clinics[0].headers,
    )

    assert [e["field"] for e in (await problem_of(response, 422))["errors"]] == ["service_id"]
