"""Calendar apps polling changing feeds leave the server's memory flat: the rendered-event
memo stays within TELEHUB_FEED_CACHE_BYTES however much is rendered (real PostgreSQL, the
app in process, memory measured with tracemalloc)."""

from __future__ import annotations

import dataclasses
import gc
import tracemalloc
from datetime import time

import asyncpg
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from scheduling import feeds
from scheduling.feed_store import FeedOwner
from telehub.app import create_app
from telehub.keys import FEED_RENDERER
from telehub.settings import Settings
from tests.factories import Clock, Network

BUDGET = 512 * 1024
CONSULTANTS = 8
EVENTS = 150  # each consultant's feed: one booking a day from 2 March 2027
ROUNDS = 5


async def _feeds(network: Network, conn: asyncpg.Connection) -> list[str]:
    """Consultants with a feed URL each and a booking every day of their feed's window."""
    video = await network.service(duration_minutes=60)
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    paths = []
    for _ in range(CONSULTANTS):
        consultant = await network.consultant([video], hours=((0, time(9), time(12)),))
        await conn.execute(
            """
            INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period,
                                  blocked, video_link, created_by)
            SELECT $1, $2, $3, $4, tstzrange(t, t + interval '1 hour'),
                   tstzrange(t, t + interval '1 hour'),
                   'https://video.telehub.example/room/' || gen_random_uuid(), 'test'
            FROM generate_series(timestamptz '2027-03-02 17:00Z',
                                 timestamptz '2027-03-02 17:00Z' + ($5 - 1) * interval '1 day',
                                 interval '1 day') AS t
            """,
            video.id,
            consultant.id,
            spoke.id,
            patient.id,
            EVENTS,
        )
        token = await feeds.issue_token(conn, FeedOwner(consultant_id=consultant.id))
        paths.append(f"/feeds/consultants/{token}.ics")
    return paths


async def test_polling_changing_feeds_keeps_memory_within_the_cache_budget(
    aiohttp_client: AiohttpClient,
    pool: asyncpg.Pool,
    settings: Settings,
    clock: Clock,
    network: Network,
    conn: asyncpg.Connection,
) -> None:
    small = dataclasses.replace(settings, feed_cache_bytes=BUDGET)
    client: TestClient = await aiohttp_client(create_app(small, pool=pool, clock=clock))
    renderer = client.app[FEED_RENDERER]
    paths = await _feeds(network, conn)
    rendered = 0

    async def poll_after_every_booking_changed() -> None:
        nonlocal rendered
        await conn.execute(
            "UPDATE bookings SET sequence = sequence + 1, updated_at = clock_timestamp()"
        )
        for path in paths:
            # The session, not the test client: the test client keeps every response.
            async with client.session.get(client.make_url(path)) as answer:
                assert answer.status == 200
                body = await answer.read()
            assert body.count(b"BEGIN:VEVENT") == EVENTS
            rendered += len(body)
            assert renderer.cache.used <= BUDGET

    tracemalloc.start()
    try:
        await poll_after_every_booking_changed()  # warm: statement caches, first VTIMEZONEs
        gc.collect()
        warm = tracemalloc.get_traced_memory()[0]
        for _ in range(ROUNDS - 1):
            await poll_after_every_booking_changed()
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - warm
    finally:
        tracemalloc.stop()

    # Every round renders every event anew (about 0.9 KB of memo entry each, some 1.1 MB a
    # round); the memo keeps at most BUDGET of them, so the process grows by less than that,
    # plus slack for whatever else a request leaves, nowhere near the rounds' total.
    assert renderer.cache.misses >= ROUNDS * CONSULTANTS * EVENTS
    assert rendered > 6 * BUDGET
    assert grown < BUDGET + 1024 * 1024, f"grew {grown / 1024:.0f} KiB"
