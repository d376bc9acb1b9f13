"""Every read or change of a patient-linked record leaves an audit row tied to its request."""

from __future__ import annotations

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.factories import Network


async def _rows(conn: asyncpg.Connection, request: ClientResponse) -> list[tuple[str, str, str]]:
    rows = await conn.fetch(
        "SELECT action, record_type, record_id, actor, spoke_id, at FROM audit_log"
        " WHERE request_id = $1 ORDER BY id",
        request.headers["X-Request-Id"],
    )
    for row in rows:
        assert row["at"] is not None
    return [(r["action"], r["record_type"], r["record_id"]) for r in rows]


async def test_patient_and_booking_reads_and_changes_are_audited(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc])
    spoke = await network.spoke()
    h = spoke.headers

    created = await client.post(
        "/api/v1/patients",
        json={
            "mrn": "A-1",
            "given_name": "Ola",
            "family_name": "Nordmann",
            "birth_date": "1990-02-03",
            "state": "VT",
        },
        headers=h,
    )
    patient_id = (await created.json())["id"]
    assert await _rows(conn, created) == [("create", "patient", patient_id)]

    read = await client.get(f"/api/v1/patients/{patient_id}", headers=h)
    assert await _rows(conn, read) == [("read", "patient", patient_id)]

    found = await client.get("/api/v1/patients", params={"mrn": "A-1"}, headers=h)
    assert await _rows(conn, found) == [("read", "patient", patient_id)]

    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "patient_id": patient_id,
            "start": "2027-03-08T09:00:00-08:00",
        },
        headers={**h, "Idempotency-Key": "audit-1"},
    )
    booking_id = (await booked.json())["id"]
    assert await _rows(conn, booked) == [("create", "booking", booking_id)]

    got = await client.get(f"/api/v1/bookings/{booking_id}", headers=h)
    listed = await client.get("/api/v1/bookings", headers=h)
    moved = await client.post(
        f"/api/v1/bookings/{booking_id}/reschedule",
        json={"start": "2027-03-08T10:00:00-08:00"},
        headers=h,
    )
    cancelled = await client.post(
        f"/api/v1/bookings/{booking_id}/cancel", json={"reason": "Family emergency"}, headers=h
    )
    assert await _rows(conn, got) == [("read", "booking", booking_id)]
    assert await _rows(conn, listed) == [("read", "booking", booking_id)]
    assert await _rows(conn, moved) == [("update", "booking", booking_id)]
    assert await _rows(conn, cancelled) == [("cancel", "booking", booking_id)]

    actors = await conn.fetch("SELECT DISTINCT actor, spoke_id FROM audit_log")
    assert [(r["actor"], r["spoke_id"]) for r in actors] == [
        (f"client:{spoke.client_id}", spoke.id)
    ]


async def test_a_refused_read_writes_no_audit_row(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    owner = await network.spoke()
    other = await network.spoke()
    patient = await network.patient(owner)

    refused = await client.get(f"/api/v1/patients/{patient.id}", headers=other.headers)

    assert refused.status == 404
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == 0
