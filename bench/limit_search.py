"""Slot search with `limit`: the first N open slots of windows of 7, 28 and 92 days.

The same one-client searches as bench/search.py (one service, the whole hub, the window
sliding a day per request), with `&limit=N`; next to each, the same window without a limit,
which both shows what the limit saves and checks it: every limited answer must be exactly
the first N slots of the whole answer for its window (soonest first, then by consultant).
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from bench.api import bearer, slots_target
from bench.config import SEARCH_STATE, Sizes
from bench.http import Connection
from bench.load import HOST
from bench.network import Network
from bench.search import measure

Slot = tuple[str, int]  # (start, consultant_id): what orders the answer
HEAD = 1000  # at most this many first slots of an answer are kept to compare (the limit's max)


class _Searcher:
    """Searches windows of `days` days, each a day after the one before, with `limit` or not."""

    def __init__(self, port: int, network: Network, days: int, limit: int | None) -> None:
        self.conn = Connection(HOST, port)
        self.network = network
        self.days = days
        self.limit = limit
        self.headers = bearer(network.hub_token)
        self.first = datetime.combine(network.first_day + timedelta(days=1), clock(0), UTC)
        last = datetime.combine(network.last_day + timedelta(days=1), clock(0), UTC)
        self.span = max(1, (last - self.first).days - days + 1)
        self.count = 0
        self.heads: dict[datetime, list[Slot]] = {}  # each window's first slots, as answered
        self.found: list[int] = []

    async def search(self) -> float:
        start = self.first + timedelta(days=self.count % self.span)
        self.count += 1
        target = slots_target(
            self.network.search_service.id, start, start + timedelta(days=self.days), SEARCH_STATE
        )
        if self.limit is not None:
            target += f"&limit={self.limit}"
        t0 = time.perf_counter()
        answer = await self.conn.request("GET", target, self.headers)
        elapsed = time.perf_counter() - t0
        if answer.status != 200:
            raise RuntimeError(f"slot search answered {answer.status}: {answer.body[:300]!r}")
        slots = answer.json()["slots"]
        self.found.append(len(slots))
        self.heads[start] = [(s["start"], s["consultant_id"]) for s in slots[:HEAD]]
        return elapsed


def _exact(limited: _Searcher, whole: _Searcher, limit: int) -> bool:
    """Each limited answer is the first `limit` of the whole answer for the same window."""
    return all(
        head == whole.heads[start][:limit]
        for start, head in limited.heads.items()
        if start in whole.heads
    ) and all(len(head) <= limit for head in limited.heads.values())


async def limit_point(
    port: int,
    network: Network,
    days: int,
    limit: int,
    samples: int,
    sizes: Sizes,
    roles: dict[str, list[int]],
) -> dict[str, Any]:
    """p50/p99 and server CPU of `samples` limited searches of `days` days, and of as many
    without the limit; whether every limited answer was the whole answer's first `limit`."""
    limited = _Searcher(port, network, days, limit)
    whole = _Searcher(port, network, days, None)
    try:
        with_limit = await measure(limited.search, samples, sizes, roles)
        without = await measure(whole.search, samples, sizes, roles)
    finally:
        limited.conn.close()
        whole.conn.close()
    compared = sum(1 for start in limited.heads if start in whole.heads)
    return {
        "days": days,
        "limit": limit,
        "p50_ms": with_limit["latency"]["p50_ms"],
        "p99_ms": with_limit["latency"]["p99_ms"],
        "server_cpu_ms_per_search": with_limit["server_cpu_ms_per_search"],
        "slots_per_answer_max": max(limited.found),
        "without_limit_p50_ms": without["latency"]["p50_ms"],
        "without_limit_server_cpu_ms": without["server_cpu_ms_per_search"],
        "without_limit_slots_mean": round(sum(whole.found) / len(whole.found)),
        "windows_compared": compared,
        "first_n_exact": compared > 0 and _exact(limited, whole, limit),
        "samples": with_limit["latency"]["count"],
    }
