"""A patient's courses of sessions in their record: the API lists each series with its sessions,
and the patient page says which session of the course each one is."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.http.care.support import Record, record_of

# Mondays at 10:00 in Los Angeles (13:00 in New York), after both move to daylight time.
FIRST = "2027-03-15T17:00:00Z"


async def course_of(client: TestClient, r: Record, count: int = 3) -> dict[str, object]:
    """A weekly course of the patient's, booked through the API (asserting 201)."""
    response = await client.post(
        "/api/v1/series",
        json={
            "service_id": r.video.id,
            "consultant_id": r.consultant.id,
            "patient_id": str(r.patient.id),
            "first_start": FIRST,
            "repeat": "weekly",
            "count": count,
        },
        headers={**r.spoke.headers, "Idempotency-Key": uuid.uuid4().hex},
    )
    assert response.status == 201, await response.text()
    return dict(await response.json())


async def test_the_record_lists_the_patients_series_with_their_sessions(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)
    course = await course_of(client, r)

    response = await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=r.spoke.headers)

    body = await response.json()
    assert [s["id"] for s in body["series"]] == [course["id"]]
    listed = body["series"][0]
    assert (listed["repeat"], listed["count"], listed["first_start"]) == ("weekly", 3, FIRST)
    assert [b["start"] for b in listed["bookings"]] == [
        "2027-03-15T17:00:00Z",
        "2027-03-22T17:00:00Z",
        "2027-03-29T17:00:00Z",
    ]
    in_bookings = {b["id"] for b in body["bookings"]}
    assert {b["id"] for b in listed["bookings"]} <= in_bookings
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE request_id = $1 AND record_type = 'series'",
        response.headers["X-Request-Id"],
    )
    assert audited == 1


async def test_another_clinic_sees_no_series_of_the_patient(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    r = await record_of(client, conn, network, clock)
    await course_of(client, r)
    rival = await network.spoke()

    response = await client.get(f"/api/v1/patients/{r.patient.id}/care", headers=rival.headers)

    assert response.status == 404


async def test_the_patient_page_shows_the_course_and_each_sessions_place_in_it(
    client: TestClient, network: Network, record: Record
) -> None:
    course = await course_of(client, record, count=2)
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    courses = page[page.index('<h2 id="series">') : page.index('<h2 id="econsults">')]
    assert f'href="/spoke/series/{course["id"]}"' in courses
    assert "every week, 2 sessions from Mon 15 Mar 2027, 13:00: 2 booked" in courses
    assert "session 1 of 2" in page and "session 2 of 2" in page
