"""Fixtures for the page tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import time

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Clock, Network, page_csrf, sign_in
from tests.http.spoke_support import Clinic
from tests.round_trips import Counted, Sent


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


@pytest.fixture
async def one_connection(settings: Settings) -> AsyncIterator[tuple[asyncpg.Pool, Sent]]:
    """A pool of one connection whose every statement is logged (tests/round_trips.py)."""
    pool = await create_pool(replace(settings, db_pool_min=1, db_pool_max=1))
    sent = Sent()
    async with pool.acquire() as conn:
        conn.add_query_logger(sent)
    yield pool, sent
    await pool.close()


@pytest.fixture
async def counted(
    one_connection: tuple[asyncpg.Pool, Sent],
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: Clock,
) -> Counted:
    """The whole app on that one logged connection, on this test's clock."""
    # `one_connection` comes first so its pool is closed last, after the app's cleanup.
    pool, sent = one_connection
    return Counted(await aiohttp_client(create_app(settings, pool=pool, clock=clock)), pool, sent)
