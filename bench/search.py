"""1. Slot search: GET /api/v1/slots for one service across all consultants, 7 and 28 days.

One client, keep-alive, one search at a time, the window sliding a day per request. On a
shared machine the searches run in chunks, each after a (bounded) wait for the machine to
be idle; percentiles come from the chunks during which other processes used at most
QUIET_CORES, unless too few were quiet (then from every chunk, and the answer says so).
"""

from __future__ import annotations

import math
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any

from bench.api import bearer, slots_target
from bench.config import SEARCH_STATE, Sizes
from bench.http import Connection
from bench.load import HOST
from bench.machine import CpuMeter, wait_quiet
from bench.network import Network
from bench.stats import summary

CHUNK = 25
QUIET_CORES = 0.3


class _Searcher:
    def __init__(self, port: int, network: Network, days: int) -> None:
        self.conn = Connection(HOST, port)
        self.network = network
        self.days = days
        self.headers = bearer(network.hub_token)
        self.first = datetime.combine(network.first_day + timedelta(days=1), clock(0), UTC)
        last = datetime.combine(network.last_day + timedelta(days=1), clock(0), UTC)
        self.span = max(1, (last - self.first).days - days + 1)  # starts inside the grid
        self.count = 0
        self.found: list[int] = []
        self.sizes: list[int] = []

    async def search(self) -> float:
        start = self.first + timedelta(days=self.count % self.span)
        self.count += 1
        end = start + timedelta(days=self.days)
        target = slots_target(self.network.search_service.id, start, end, SEARCH_STATE)
        t0 = time.perf_counter()
        answer = await self.conn.request("GET", target, self.headers)
        elapsed = time.perf_counter() - t0
        if answer.status != 200:
            raise RuntimeError(f"slot search answered {answer.status}: {answer.body[:300]!r}")
        self.found.append(len(answer.json()["slots"]))
        self.sizes.append(len(answer.body))
        return elapsed


async def slot_search(
    port: int, network: Network, days: int, samples: int, sizes: Sizes, roles: dict[str, list[int]]
) -> dict[str, Any]:
    """p50/p99 of `samples` searches of `days` days (quiet chunks preferred)."""
    searcher = _Searcher(port, network, days)
    try:
        timing = await measure(searcher.search, samples, sizes, roles)
    finally:
        searcher.conn.close()
    return {
        "days": days,
        "consultants": len(network.people),
        "patient_state": SEARCH_STATE,
        **timing,
        "slots_per_answer": spread(searcher.found),
        "answer_kb_mean": round(sum(searcher.sizes) / len(searcher.sizes) / 1024, 1),
    }


def spread(found: list[int]) -> dict[str, int]:
    """min, mean and max of a list of counts."""
    return {"min": min(found), "mean": round(sum(found) / len(found)), "max": max(found)}


async def measure(
    search: Callable[[], Awaitable[float]],
    samples: int,
    sizes: Sizes,
    roles: dict[str, list[int]],
) -> dict[str, Any]:
    """Time `samples` calls of `search` (each returns its own latency) in chunks, preferring
    the chunks during which the machine was otherwise quiet."""
    quiet: list[float] = []
    noisy: list[float] = []
    others: dict[bool, list[float]] = {True: [], False: []}  # other processes' cores per chunk
    server_cpu = 0.0
    for _ in range(sizes.search_warmup):
        await search()
    filtering = sizes.quiet_wait_s > 0
    chunks = math.ceil(samples / CHUNK) * (3 if filtering else 1)
    for _ in range(chunks):
        if len(quiet) >= samples:
            break
        await wait_quiet(sizes.quiet_wait_s / 4)
        meter = CpuMeter(roles)
        meter.start()
        began = time.perf_counter()
        latencies = [await search() for _ in range(min(CHUNK, samples))]
        used = meter.stop()
        server_cpu += used["server"] * (time.perf_counter() - began)
        calm = not filtering or used["other"] <= QUIET_CORES
        (quiet if calm else noisy).extend(latencies)
        others[calm].append(used["other"])
    everything = quiet + noisy
    enough = len(quiet) >= samples // 2
    return {
        "latency": summary(quiet if enough else everything),
        "from_quiet_samples_only": enough,
        "other_cores_max": max(others[True] if enough else others[True] + others[False]),
        "samples_quiet": len(quiet),
        "samples_noisy": len(noisy),
        "latency_all_samples": summary(everything),
        "server_cpu_ms_per_search": round(server_cpu / len(everything) * 1000, 1),
    }
