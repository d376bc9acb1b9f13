"""The e-consult loop the consult note tests answer."""

from __future__ import annotations

from datetime import time

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import (
    Network,
    econsult,
)
from tests.http.notes.support import Loop


@pytest.fixture
async def loop(client: TestClient, network: Network) -> Loop:
    """A clinic's e-consult, assigned to a consultant who also offers video visits."""
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    video = await network.service(duration_minutes=60)
    consultant = await network.consultant(
        [econsult_service, video], hours=((0, time(9), time(12)),)
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=econsult_service.id)
    assert asked["consultant_id"] == consultant.id
    result = Loop()
    result.spoke, result.econsult_id = spoke, asked["id"]
    result.consultant_id = consultant.id
    result.hub = network.consultant_headers(consultant.id)
    result.video_service_id = video.id
    return result
