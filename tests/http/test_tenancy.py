"""Tenancy: a spoke sees and changes only its own patients and bookings, and no hub endpoint."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import time
from typing import Any

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from spokes.store import Patient
from tests import factories
from tests.factories import Network, SpokeUser, booking_body, booking_row

PROBLEM_JSON = "application/problem+json"
# The default consultant works Mondays 09:00-12:00 in Los Angeles: 17:00, 18:00, 19:00Z.
A_TIME = "2027-03-08T17:00:00Z"
B_TIME = "2027-03-08T18:00:00Z"
FREE = "2027-03-08T19:00:00Z"
SHARED_KEY = "first-booking"  # both spokes use it: keys belong to one client
HOURS = {"rules": [{"weekday": "tuesday", "start": "13:00", "end": "15:00"}], "exceptions": []}


@dataclass(frozen=True)
class Tenants:
    """Two spokes, each with a patient booked with the same consultant."""

    a: SpokeUser
    b: SpokeUser
    patient_a: Patient
    patient_b: Patient
    booking_a: dict[str, Any]
    booking_b: dict[str, Any]
    service_id: int
    consultant_id: int


async def book(
    client: TestClient,
    spoke: SpokeUser,
    patient_id: object,
    start: str,
    *,
    service_id: int,
    consultant_id: int,
    key: str | None = None,
) -> ClientResponse:
    """POST /api/v1/bookings as the spoke, under the key (default: a fresh one)."""
    body = booking_body(
        service_id=service_id, consultant_id=consultant_id, patient_id=patient_id, start=start
    )
    return await factories.book(client, spoke, body, key=key)


@pytest.fixture
async def tenants(client: TestClient, network: Network) -> Tenants:
    """Spokes A and B, each with one patient and one booking made through the API."""
    service = await network.service()
    consultant = await network.consultant([service])
    a, b = await network.spoke(), await network.spoke()
    patient_a, patient_b = await network.patient(a), await network.patient(b)
    made = {}
    for spoke, patient, start in ((a, patient_a, A_TIME), (b, patient_b, B_TIME)):
        response = await book(
            client,
            spoke,
            patient.id,
            start,
            service_id=service.id,
            consultant_id=consultant.id,
            key=SHARED_KEY,
        )
        assert response.status == 201, await response.text()
        made[spoke.id] = await response.json()
    return Tenants(a, b, patient_a, patient_b, made[a.id], made[b.id], service.id, consultant.id)


async def problem_of(response: ClientResponse, status: int) -> dict[str, Any]:
    """The problem document of a refusal, after checking its status and media type."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == PROBLEM_JSON
    problem: dict[str, Any] = json.loads(text)
    assert problem["status"] == status
    return problem


def comparable(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem document without what differs between any two requests."""
    return {k: v for k, v in problem.items() if k not in {"request_id", "instance"}}


async def audit_rows(
    conn: asyncpg.Connection, record_type: str, record_id: object
) -> list[tuple[str, str, int | None]]:
    """(actor, action, spoke_id) of every audit row about one record, oldest first."""
    rows = await conn.fetch(
        "SELECT actor, action, spoke_id FROM audit_log"
        " WHERE record_type = $1 AND record_id = $2 ORDER BY id",
        record_type,
        str(record_id),
    )
    return [(r["actor"], r["action"], r["spoke_id"]) for r in rows]


async def open_starts(client: TestClient, t: Tenants) -> list[str]:
    """Starts of the open slots on Monday 8 March, as spoke A sees them."""
    response = await client.get(
        "/api/v1/slots",
        params={
            "service_id": t.service_id,
            "start": "2027-03-08T00:00:00Z",
            "end": "2027-03-09T00:00:00Z",
            "patient_state": "VT",
        },
        headers=t.a.headers,
    )
    assert response.status == 200, await response.text()
    return [s["start"] for s in (await response.json())["slots"]]


def actor(spoke: SpokeUser) -> str:
    """How audit rows name the spoke's API client."""
    return f"client:{spoke.client_id}"


async def test_reading_another_spokes_booking_answers_exactly_like_a_missing_booking(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    theirs = await client.get(f"/api/v1/bookings/{t.booking_b['id']}", headers=t.a.headers)
    missing = await client.get(f"/api/v1/bookings/{uuid.uuid4()}", headers=t.a.headers)

    refused = await problem_of(theirs, 404)
    assert comparable(refused) == comparable(await problem_of(missing, 404))
    assert refused["type"] == "/problems/not-found"
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_another_spoke_cannot_reschedule_a_booking_and_it_stays_as_it_was(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    before = await booking_row(conn, t.booking_b["id"])

    theirs = await client.post(
        f"/api/v1/bookings/{t.booking_b['id']}/reschedule",
        headers=t.a.headers,
        json={"start": FREE},
    )
    missing = await client.post(
        f"/api/v1/bookings/{uuid.uuid4()}/reschedule", headers=t.a.headers, json={"start": FREE}
    )

    assert comparable(await problem_of(theirs, 404)) == comparable(await problem_of(missing, 404))
    assert await booking_row(conn, t.booking_b["id"]) == before
    assert await open_starts(client, t) == [FREE]
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_another_spoke_cannot_cancel_a_booking_and_it_stays_booked(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    before = await booking_row(conn, t.booking_b["id"])
    reason = {"reason": "not ours to cancel"}

    theirs = await client.post(
        f"/api/v1/bookings/{t.booking_b['id']}/cancel", headers=t.a.headers, json=reason
    )
    missing = await client.post(
        f"/api/v1/bookings/{uuid.uuid4()}/cancel", headers=t.a.headers, json=reason
    )

    assert comparable(await problem_of(theirs, 404)) == comparable(await problem_of(missing, 404))
    after = await booking_row(conn, t.booking_b["id"])
    assert after == before
    assert (after["status"], after["sequence"], after["cancelled_at"]) == ("booked", 0, None)
    assert B_TIME not in await open_starts(client, t)
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_every_cross_tenant_attempt_leaves_the_booking_exactly_as_its_owner_sees_it(
    client: TestClient, tenants: Tenants
) -> None:
    t = tenants
    path = f"/api/v1/bookings/{t.booking_b['id']}"
    keyed = {**t.a.headers, "Idempotency-Key": "cross-tenant-1"}
    attempts = [
        await client.get(path, headers=t.a.headers),
        await client.post(f"{path}/reschedule", headers=t.a.headers, json={"start": FREE}),
        await client.post(f"{path}/reschedule", headers=keyed, json={"start": FREE}),
        await client.post(f"{path}/cancel", headers=t.a.headers, json={"reason": "mine now"}),
    ]

    assert [r.status for r in attempts] == [404, 404, 404, 404]
    owner_view = await client.get(path, headers=t.b.headers)
    assert owner_view.status == 200
    seen = await owner_view.json()
    assert seen == t.booking_b
    assert (seen["status"], seen["sequence"], seen["start"]) == ("booked", 0, B_TIME)


async def test_reading_another_spokes_patient_answers_exactly_like_a_missing_patient(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    theirs = await client.get(f"/api/v1/patients/{t.patient_b.id}", headers=t.a.headers)
    missing = await client.get(f"/api/v1/patients/{uuid.uuid4()}", headers=t.a.headers)
    own = await client.get(f"/api/v1/patients/{t.patient_a.id}", headers=t.a.headers)

    assert comparable(await problem_of(theirs, 404)) == comparable(await problem_of(missing, 404))
    assert own.status == 200
    assert (await own.json())["mrn"] == t.patient_a.mrn
    assert await audit_rows(conn, "patient", t.patient_b.id) == []
    assert await audit_rows(conn, "patient", t.patient_a.id) == [(actor(t.a), "read", t.a.id)]


async def test_searching_by_another_spokes_mrn_finds_no_patient(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    mrn = {"mrn": t.patient_b.mrn}

    by_a = await client.get("/api/v1/patients", params=mrn, headers=t.a.headers)
    by_b = await client.get("/api/v1/patients", params=mrn, headers=t.b.headers)

    assert by_a.status == 200
    assert await by_a.json() == {"patients": []}
    assert by_b.status == 200
    assert [p["id"] for p in (await by_b.json())["patients"]] == [str(t.patient_b.id)]
    assert await audit_rows(conn, "patient", t.patient_b.id) == [(actor(t.b), "read", t.b.id)]


async def test_listing_bookings_shows_a_spoke_only_its_own(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants

    mine = await client.get("/api/v1/bookings", headers=t.a.headers)
    by_patient = await client.get(
        "/api/v1/bookings", params={"patient_id": str(t.patient_b.id)}, headers=t.a.headers
    )

    assert mine.status == by_patient.status == 200
    assert await mine.json() == {"bookings": [t.booking_a], "next_cursor": None}
    assert await by_patient.json() == {"bookings": [], "next_cursor": None}
    assert await audit_rows(conn, "booking", t.booking_a["id"]) == [
        (actor(t.a), "create", t.a.id),
        (actor(t.a), "read", t.a.id),
    ]
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_booking_for_another_spokes_patient_is_refused_like_an_unknown_patient(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    where = {"service_id": t.service_id, "consultant_id": t.consultant_id}
    bookings_before = await conn.fetchval("SELECT count(*) FROM bookings")

    theirs = await book(client, t.a, t.patient_b.id, FREE, **where)
    unknown = await book(client, t.a, uuid.uuid4(), FREE, **where)

    refused = await problem_of(theirs, 422)
    assert comparable(refused) == comparable(await problem_of(unknown, 422))
    assert [e["field"] for e in refused["errors"]] == ["patient_id"]
    assert await conn.fetchval("SELECT count(*) FROM bookings") == bookings_before
    assert await open_starts(client, t) == [FREE]
    assert await audit_rows(conn, "patient", t.patient_b.id) == []


async def test_two_spokes_may_use_the_same_idempotency_key_independently(
    conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    rows = await conn.fetch(
        "SELECT owner, response_status, response_body FROM idempotency_keys WHERE key = $1",
        SHARED_KEY,
    )
    answers = {r["owner"]: (r["response_status"], json.loads(r["response_body"])) for r in rows}
    assert answers == {t.a.client_id: (201, t.booking_a), t.b.client_id: (201, t.booking_b)}


async def test_another_spokes_idempotency_key_replays_nothing_of_its_booking(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    where = {"service_id": t.service_id, "consultant_id": t.consultant_id}
    made = await book(client, t.b, t.patient_b.id, FREE, key="b-second-booking", **where)
    assert made.status == 201, await made.text()
    bookings_before = await conn.fetchval("SELECT count(*) FROM bookings")

    # Spoke B's exact request under B's key, sent by A: B's answer must not be replayed to A.
    copied = await book(client, t.a, t.patient_b.id, FREE, key="b-second-booking", **where)

    refused = await problem_of(copied, 422)
    assert "Idempotent-Replayed" not in copied.headers
    assert [e["field"] for e in refused["errors"]] == ["patient_id"]
    assert (await made.json())["id"] not in await copied.text()
    assert await conn.fetchval("SELECT count(*) FROM bookings") == bookings_before


HUB_ADMIN_CALLS = [
    pytest.param(
        "POST",
        "/api/v1/services",
        {
            "kind": "video_session",
            "name": "Spoke-made",
            "duration_minutes": 30,
            "roles": ["psychiatric_consultant"],
        },
        "services:write",
        id="create-service",
    ),
    pytest.param(
        "POST",
        "/api/v1/consultants",
        {"name": "Dr Spoke", "role": "psychiatric_consultant", "timezone": "America/Chicago"},
        "consultants:write",
        id="create-consultant",
    ),
    pytest.param(
        "PUT",
        "/api/v1/consultants/{consultant}/availability",
        HOURS,
        "availability:write",
        id="replace-availability",
    ),
]
HUB_TABLES = ("services", "consultants", "consultant_services", "availability_rules")


@pytest.mark.parametrize(("method", "path", "body", "scope"), HUB_ADMIN_CALLS)
async def test_a_spoke_token_is_forbidden_from_hub_admin_endpoints(
    client: TestClient,
    conn: asyncpg.Connection,
    tenants: Tenants,
    method: str,
    path: str,
    body: dict[str, Any],
    scope: str,
) -> None:
    t = tenants
    counts = [await conn.fetchval(f"SELECT count(*) FROM {table}") for table in HUB_TABLES]

    response = await client.request(
        method, path.format(consultant=t.consultant_id), json=body, headers=t.a.headers
    )

    problem = await problem_of(response, 403)
    assert problem["type"] == "/problems/forbidden"
    assert problem["required_scope"] == scope
    assert f'scope="{scope}"' in response.headers["WWW-Authenticate"]
    assert [await conn.fetchval(f"SELECT count(*) FROM {table}") for table in HUB_TABLES] == counts


async def weekly_hours(
    conn: asyncpg.Connection, consultant_id: int
) -> list[tuple[int, time, time]]:
    """A consultant's stored weekly rules as (weekday, start, end)."""
    rows = await conn.fetch(
        "SELECT weekday, start_time, end_time FROM availability_rules"
        " WHERE consultant_id = $1 ORDER BY weekday, start_time",
        consultant_id,
    )
    return [(r["weekday"], r["start_time"], r["end_time"]) for r in rows]


async def test_a_consultant_cannot_change_another_consultants_hours(
    client: TestClient, conn: asyncpg.Connection, network: Network, tenants: Tenants
) -> None:
    other = await network.consultant([])
    caller = network.consultant_headers(other.id)

    response = await client.put(
        f"/api/v1/consultants/{tenants.consultant_id}/availability", json=HOURS, headers=caller
    )

    problem = await problem_of(response, 403)
    assert problem["type"] == "/problems/forbidden"
    assert await weekly_hours(conn, tenants.consultant_id) == [(0, time(9), time(12))]


async def test_a_consultant_can_change_their_own_hours(
    client: TestClient, conn: asyncpg.Connection, network: Network, tenants: Tenants
) -> None:
    caller = network.consultant_headers(tenants.consultant_id)

    response = await client.put(
        f"/api/v1/consultants/{tenants.consultant_id}/availability", json=HOURS, headers=caller
    )

    assert response.status == 200, await response.text()
    saved = await response.json()
    assert saved["consultant_id"] == tenants.consultant_id
    assert [(r["weekday"], r["start"], r["end"]) for r in saved["rules"]] == [
        ("tuesday", "13:00:00", "15:00:00")
    ]
    assert await weekly_hours(conn, tenants.consultant_id) == [(1, time(13), time(15))]


async def test_the_hub_admin_can_read_any_spokes_booking_and_the_read_is_audited(
    client: TestClient, conn: asyncpg.Connection, network: Network, tenants: Tenants
) -> None:
    t = tenants

    response = await client.get(
        f"/api/v1/bookings/{t.booking_b['id']}", headers=network.hub_admin_headers()
    )

    assert response.status == 200, await response.text()
    assert await response.json() == t.booking_b
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [
        (actor(t.b), "create", t.b.id),
        ("client:hub-test", "read", t.b.id),
    ]


async def test_each_spoke_reading_its_own_booking_writes_an_audit_row_naming_its_client(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    for spoke, made in ((t.a, t.booking_a), (t.b, t.booking_b)):
        response = await client.get(f"/api/v1/bookings/{made['id']}", headers=spoke.headers)
        assert response.status == 200
        assert await response.json() == made
        row = await conn.fetchrow(
            "SELECT actor, spoke_id, request_id FROM audit_log"
            " WHERE record_type = 'booking' AND record_id = $1 AND action = 'read'",
            made["id"],
        )
        assert row is not None
        assert dict(row) == {
            "actor": actor(spoke),
            "spoke_id": spoke.id,
            "request_id": response.headers["X-Request-Id"],
        }
