"""Two spokes with a patient and a booking each, for the tenancy tests."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.tenancy.support import A_TIME, B_TIME, SHARED_KEY, Tenants, book


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
