"""A spoke cannot read, move, cancel, list or replay another spoke's booking: each attempt
answers exactly like a missing booking and leaves it as it was."""

from __future__ import annotations

import json

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import booking_row
from tests.http.problems import problem_of
from tests.http.tenancy.lookalike import refused_like_missing
from tests.http.tenancy.support import (
    B_TIME,
    FREE,
    SHARED_KEY,
    Tenants,
    actor,
    audit_rows,
    book,
    open_starts,
)


async def test_reading_another_spokes_booking_answers_exactly_like_a_missing_booking(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    refused = await refused_like_missing(
        client, "GET", "/api/v1/bookings/{id}", t.booking_b["id"], t.a.headers
    )
    assert refused["type"] == "/problems/not-found"
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_another_spoke_cannot_reschedule_a_booking_and_it_stays_as_it_was(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    before = await booking_row(conn, t.booking_b["id"])

    path = "/api/v1/bookings/{id}/reschedule"
    await refused_like_missing(
        client, "POST", path, t.booking_b["id"], t.a.headers, json={"start": FREE}
    )
    assert await booking_row(conn, t.booking_b["id"]) == before
    assert await open_starts(client, t) == [FREE]
    assert await audit_rows(conn, "booking", t.booking_b["id"]) == [(actor(t.b), "create", t.b.id)]


async def test_another_spoke_cannot_cancel_a_booking_and_it_stays_booked(
    client: TestClient, conn: asyncpg.Connection, tenants: Tenants
) -> None:
    t = tenants
    before = await booking_row(conn, t.booking_b["id"])
    reason = {"reason": "not ours to cancel"}

    path = "/api/v1/bookings/{id}/cancel"
    await refused_like_missing(client, "POST", path, t.booking_b["id"], t.a.headers, json=reason)
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
