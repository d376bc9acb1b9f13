"""No double booking under concurrency: PostgreSQL's exclusion constraint decides."""

from __future__ import annotations

import asyncio
import uuid
from collections import Counter
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


async def test_fifty_spokes_racing_for_one_slot_get_one_booking(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc = await network.service()
    consultant = await network.consultant([svc])
    requests = []
    for _ in range(50):
        spoke = await network.spoke()
        patient = await network.patient(spoke)
        body = {
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": MONDAY_9_LA.isoformat(),
        }
        headers = {**spoke.headers, "Idempotency-Key": uuid.uuid4().hex}
        requests.append((body, headers))

    responses = await asyncio.gather(
        *(client.post("/api/v1/bookings", json=b, headers=h) for b, h in requests)
    )

    statuses = Counter(r.status for r in responses)
    assert statuses == {201: 1, 409: 49}
    for response in responses:
        if response.status == 409:
            assert (await response.json())["type"] == "/problems/slot-taken"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
