"""A spoke token is forbidden from the hub admin's endpoints; a consultant changes only their
own hours."""

from __future__ import annotations

from datetime import time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.problems import problem_of
from tests.http.tenancy.support import HOURS, Tenants

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
