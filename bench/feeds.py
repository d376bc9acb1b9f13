"""4. Calendar feeds: a consultant feed of about 2,000 events, cold, after one change, and 304.

Each VEVENT's text is memoized per process, within TELEHUB_FEED_CACHE_BYTES, and rendered in
a worker thread (scheduling/feed_render.py), so three figures matter:
the first render in a process (every event rendered), a re-render after one booking changed
(one event rendered, the rest from the memo), and the 304 a subscribed calendar app gets
when nothing changed.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench.api import bearer, cancel
from bench.config import Sizes
from bench.http import Connection, Response
from bench.load import HOST
from bench.machine import wait_quiet
from bench.network import Network, Person
from bench.stats import summary


async def _feed_path(conn: Connection, network: Network, person: Person) -> str:
    return await _issue(conn, network, f"/api/v1/consultants/{person.id}/feed")


async def _issue(conn: Connection, network: Network, api_path: str) -> str:
    answer = await conn.request("POST", api_path, bearer(network.hub_token))
    if answer.status != 201:
        raise RuntimeError(f"feed URL: {answer.status} {answer.body[:300]!r}")
    return str(urlsplit(answer.json()["url"]).path)


async def _get(conn: Connection, path: str, etag: str | None = None) -> tuple[Response, float]:
    headers = {"If-None-Match": etag} if etag else {}
    t0 = time.perf_counter()
    answer = await conn.request("GET", path, headers)
    return answer, time.perf_counter() - t0


def _events(answer: Response) -> int:
    if answer.status != 200:
        raise RuntimeError(f"feed answered {answer.status}: {answer.body[:300]!r}")
    return answer.body.count(b"BEGIN:VEVENT")


async def feeds(port: int, network: Network, database_url: str, sizes: Sizes) -> dict[str, Any]:
    """Cold renders of each feed consultant, then re-renders after a change, and 304s."""
    warm_samples, samples_304 = sizes.feed_warm_samples, sizes.feed_304_samples
    conn = Connection(HOST, port)
    try:
        paths = [await _feed_path(conn, network, p) for p in network.feed_people]
        cold, events, kb = [], [], []
        for path in paths:
            await wait_quiet(sizes.quiet_wait_s / 4)
            answer, seconds = await _get(conn, path)
            events.append(_events(answer))
            kb.append(len(answer.body) / 1024)
            cold.append(seconds)
        path, person = paths[0], network.feed_people[0]
        answer, _ = await _get(conn, path)
        etag = answer.headers["etag"]

        unchanged = []  # full GETs with nothing changed: every event from the memo
        await wait_quiet(sizes.quiet_wait_s / 4)
        for _ in range(warm_samples):
            answer, seconds = await _get(conn, path)
            _events(answer)
            unchanged.append(seconds)

        not_modified = []
        await wait_quiet(sizes.quiet_wait_s / 4)
        for _ in range(samples_304):
            answer, seconds = await _get(conn, path, etag)
            if answer.status != 304:
                raise RuntimeError(f"expected 304, got {answer.status}")
            not_modified.append(seconds)

        changed = []  # one booking cancelled, then the calendar app's conditional GET
        await wait_quiet(sizes.quiet_wait_s / 4)
        for booking_id in await _cancellable(database_url, person.id, warm_samples):
            request = cancel(network, booking_id)
            done = await conn.request(request.method, request.target, request.headers, request.body)
            if done.status != 200:
                raise RuntimeError(f"cancel answered {done.status}: {done.body[:300]!r}")
            answer, seconds = await _get(conn, path, etag)
            _events(answer)
            etag = answer.headers["etag"]
            changed.append(seconds)
        every = await _every_feed_once(conn, network)
    finally:
        conn.close()
    return {
        "every_feed_once": every,
        "events": events[0],
        "feed_kb": round(kb[0], 1),
        "cold_render": summary(cold),
        "after_one_change": summary(changed),
        "unchanged_full_get": summary(unchanged),
        "not_modified_304": summary(not_modified),
    }


async def _every_feed_once(conn: Connection, network: Network) -> dict[str, Any]:
    """Every consultant's and clinic's feed, each rendered once: far more event text than
    TELEHUB_FEED_CACHE_BYTES holds, so the server's memory after this shows the memo's bound."""
    paths = [await _feed_path(conn, network, p) for p in network.people]
    paths += [await _issue(conn, network, f"/api/v1/spokes/{s.id}/feed") for s in network.spokes]
    events, size, seconds = 0, 0, []
    for path in paths:
        answer, took = await _get(conn, path)
        events += _events(answer)
        size += len(answer.body)
        seconds.append(took)
    return {
        "feeds": len(paths),
        "events": events,
        "feed_mb": round(size / 2**20, 1),
        "render": summary(seconds),
    }


async def _cancellable(database_url: str, consultant_id: int, n: int) -> list[str]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(
            """
            SELECT id FROM bookings
            WHERE consultant_id = $1 AND status = 'booked' AND lower(period) > now()
            ORDER BY lower(period) LIMIT $2
            """,
            consultant_id,
            n,
        )
    finally:
        await conn.close()
    return [str(r["id"]) for r in rows]
