"""The signed-in consultant the consultant page tests use."""

from __future__ import annotations

from datetime import time

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, sign_in
from tests.http.consultant_pages.support import Hub


@pytest.fixture
async def hub(client: TestClient, network: Network) -> Hub:
    """A consultant (e-consults and video, Monday 09-12 and 21-23 Los Angeles), signed in."""
    h = Hub()
    h.econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=40, roles=["psychiatric_consultant"]
    )
    h.video = await network.service(duration_minutes=60)
    h.consultant = await network.consultant(
        [h.econsult_service, h.video],
        hours=((0, time(9), time(12)), (0, time(21), time(23))),
        timezone="America/Los_Angeles",
    )
    h.spoke = await network.spoke()
    h.patient = await network.patient(h.spoke, family_name="Okafor")
    email, password = await network.user("consultant", consultant_id=h.consultant.id)
    assert (await sign_in(client, email, password)).status == 303
    return h
