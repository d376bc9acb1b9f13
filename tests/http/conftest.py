"""Fixtures for the page tests."""

from __future__ import annotations

from datetime import time

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in
from tests.http.spoke_support import Clinic


@pytest.fixture
async def clinic(client: TestClient, network: Network) -> Clinic:
    """A NY clinic with a patient, its scheduler signed in; an LA consultant free Mon 9-12."""
    c = Clinic()
    c.video = await network.service(name="Video visit", duration_minutes=60)
    c.econsult = await network.service(
        kind="econsult",
        name="OUD e-consult",
        duration_minutes=30,
        turnaround_hours=8,
        roles=["psychiatric_consultant"],
    )
    c.consultant = await network.consultant(
        [c.video, c.econsult], timezone="America/Los_Angeles", hours=((0, time(9), time(12)),)
    )
    c.spoke = await network.spoke(state="VT", timezone="America/New_York")
    c.patient = await network.patient(c.spoke, family_name="Quimby")
    email, password = await network.user("spoke_scheduler", spoke_id=c.spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    c.csrf = await page_csrf(client, "/spoke")
    return c
