"""The network the bad-input tests send their requests to."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.bad_input.support import (
    BOOKED,
    SHORT_HORIZON_DAYS,
    World,
)


@pytest.fixture
async def world(client: TestClient, network: Network) -> World:
    """The network the bad requests are sent to, with one booking already made."""
    service = await network.service()
    short = await network.service(horizon_days=SHORT_HORIZON_DAYS)
    other = await network.service()
    consultant = await network.consultant([service, short])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    stranger = await network.patient(await network.spoke())
    made = await client.post(
        "/api/v1/bookings",
        headers={**spoke.headers, "Idempotency-Key": "setup-booking"},
        json={
            "service_id": service.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": BOOKED,
        },
    )
    assert made.status == 201, await made.text()
    return World(
        service_id=service.id,
        short_service_id=short.id,
        other_service_id=other.id,
        consultant_id=consultant.id,
        patient_id=str(patient.id),
        stranger_id=str(stranger.id),
        booking_id=(await made.json())["id"],
        spoke_headers=spoke.headers,
        admin_headers=network.hub_admin_headers(),
    )
