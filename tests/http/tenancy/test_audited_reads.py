"""Reads of a booking are audited, naming who read it: the hub admin, or the spoke's client."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.tenancy.support import Tenants, actor, audit_rows


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
