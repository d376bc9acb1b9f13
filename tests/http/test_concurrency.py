"""No double booking under concurrency: PostgreSQL's exclusion constraint decides."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network, racing_bookings

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


async def test_fifty_spokes_racing_for_one_slot_get_one_booking(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc])
    requests = await racing_bookings(network, svc.id, consultant.id, MONDAY_9_LA, 50)

    responses = await asyncio.gather(
        *(client.post("/api/v1/bookings", json=b, headers=h) for b, h in requests)
    )

    statuses = Counter(r.status for r in responses)
    assert statuses == {201: 1, 409: 49}
    for response in responses:
        if response.status == 409:
            assert (await response.json())["type"] == "/problems/slot-taken"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
