"""Fixtures for the patient record and bookings list pages."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, sign_in
from tests.http.care.support import Record, record_of


@pytest.fixture
async def record(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> Record:
    """A patient with a record (support.record_of), their clinic's scheduler signed in."""
    made = await record_of(client, conn, network, clock)
    email, password = await network.user("spoke_scheduler", spoke_id=made.spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    return made
