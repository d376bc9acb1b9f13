"""A spoke cannot read, find or book another spoke's patient: each answers exactly like an
unknown patient."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.http.problems import problem_of
from tests.http.tenancy.lookalike import refused_like_missing
from tests.http.tenancy.support import (
    FREE,
    Tenants,
    actor,
    audit_rows,
    book,
    comparable,
    open_starts,
)


async def test_reading_another_spokes_patient_answers_exactly_like_a_missing_patient(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    await refused_like_missing(client, "GET", "/api/v1/patients/{id}", t.patient_b.id, t.a.headers)
    own = await client.get(f"/api/v1/patients/{t.patient_a.id}", headers=t.a.headers)

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
    assert await by_a.json() == {"patients": [], "next_cursor": None}
    assert by_b.status == 200
    assert [p["id"] for p in (await by_b.json())["patients"]] == [str(t.patient_b.id)]
    assert await audit_rows(conn, "patient", t.patient_b.id) == [(actor(t.b), "read", t.b.id)]


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
