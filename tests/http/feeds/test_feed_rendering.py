"""A cold feed renders in a worker thread, holding no database connection, while other
requests are answered."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.http.feeds.support import Scene, feed_url


class HeldRender:
    """Feed rendering that waits in its thread until the test lets it go, noting the order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from scheduling import ical

        self.started, self.release = threading.Event(), threading.Event()
        self.order: list[str] = []
        self.threads: list[threading.Thread] = []
        render = ical.render_calendar

        def held(*args: Any) -> bytes:
            self.threads.append(threading.current_thread())
            self.order.append("render started")
            self.started.set()
            # Held until the test has had another answer from the same app. On the event
            # loop this would stall that answer; the bound only keeps a failure from hanging.
            self.release.wait(30)
            self.order.append("render finished")
            return render(*args)

        monkeypatch.setattr(ical, "render_calendar", held)

    async def wait_started(self) -> None:
        """Until a feed is being rendered."""
        assert await asyncio.to_thread(self.started.wait, 30)


async def test_a_cold_feed_renders_in_a_worker_thread_while_other_requests_are_answered(
    client: TestClient, network: Network, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = await feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    held = HeldRender(monkeypatch)
    feed = asyncio.create_task(client.get(path))
    await held.wait_started()

    health = await client.get("/healthz")
    held.order.append(f"healthz answered {health.status}")
    held.release.set()
    answer = await feed

    assert answer.status == 200 and b"BEGIN:VEVENT" in await answer.read()
    assert held.order == ["render started", "healthz answered 200", "render finished"]
    assert held.threads and all(t is not threading.main_thread() for t in held.threads)


async def test_a_feed_being_rendered_holds_no_database_connection(
    client: TestClient,
    network: Network,
    scene: Scene,
    settings: Settings,
    clock: Clock,
    aiohttp_client: AiohttpClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = await feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    # One connection in all: a render that kept it would leave nothing for the next request
    # (which would wait db_acquire_timeout and answer 503), as 40 cold feeds once did.
    one = dataclasses.replace(settings, db_pool_min=1, db_pool_max=1, delivery_workers=False)
    pool = await create_pool(one)
    held = HeldRender(monkeypatch)
    try:
        app = await aiohttp_client(create_app(one, pool=pool, clock=clock))
        feed = asyncio.create_task(app.get(path))
        await held.wait_started()

        services = await app.get("/api/v1/services", headers=network.hub_admin_headers())
        held.order.append(f"services answered {services.status}")
        held.release.set()
        answer = await feed
    finally:
        held.release.set()
        await pool.close()

    assert answer.status == 200
    assert held.order == ["render started", "services answered 200", "render finished"]
