"""Closed-loop load: N concurrent clients, each on its own keep-alive connection, for a time.

Each client sends its next request as soon as the previous answer arrived. Requests are
counted when they complete inside the measured window (after the warm-up); throughput is
those completions over the window's length.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.http import Connection, HttpError
from bench.machine import CpuMeter
from bench.stats import summary

HOST = "127.0.0.1"


@dataclass(frozen=True, slots=True)
class Request:
    """One request to send."""

    method: str
    target: str
    headers: dict[str, str]
    body: bytes | None = None


@dataclass
class LoadResult:
    """What a run measured, and every answer it got (the warm-up's too)."""

    concurrency: int
    servers: int
    window_s: float = 0.0
    statuses: Counter[int] = field(default_factory=Counter)  # in the window
    all_statuses: Counter[int] = field(default_factory=Counter)  # warm-up included
    latencies: list[float] = field(default_factory=list)  # seconds, in the window
    exhausted: bool = False  # ran out of requests to send before the window ended
    cpu: dict[str, float] = field(default_factory=dict)

    def figures(self, ok: int, rate: str) -> dict[str, Any]:
        """`rate`: `ok` answers per second; all answers per second, latency, statuses, CPU."""
        window = self.window_s
        answers = sum(self.statuses.values()) / window if window else 0.0
        per_request = {  # CPU milliseconds each answer cost, by role: robust to a noisy machine
            role: round(cores / answers * 1000, 3)
            for role, cores in self.cpu.items()
            if role in ("server", "postgres", "load") and answers
        }
        return {
            rate: round(self.statuses[ok] / window, 1) if window else 0.0,
            "answers_per_s": round(answers, 1),
            "cpu_ms_per_request": per_request,
            "latency": summary(self.latencies),
            "window_s": round(self.window_s, 2),
            "concurrency": self.concurrency,
            "server_processes": self.servers,
            "statuses": {str(k): v for k, v in sorted(self.statuses.items())},
            "ran_out_of_slots": self.exhausted,
            "cores_used": self.cpu,
        }


async def closed_loop(
    ports: list[int],
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    next_request: Callable[[], Request | None],
    meter: CpuMeter | None = None,
) -> LoadResult:
    """Run `concurrency` clients (spread over the ports) for warm-up plus duration seconds."""
    result = LoadResult(concurrency, len(ports))
    begin = time.perf_counter()
    window_start = begin + warmup_s
    window_end = window_start + duration_s
    finished: list[float] = []

    async def client(i: int) -> None:
        conn = Connection(HOST, ports[i % len(ports)])
        try:
            while time.perf_counter() < window_end:
                request = next_request()
                if request is None:
                    result.exhausted = True
                    break
                t0 = time.perf_counter()
                try:
                    answer = await conn.request(
                        request.method, request.target, request.headers, request.body
                    )
                    status = answer.status
                except (OSError, HttpError, asyncio.IncompleteReadError):
                    status = 0  # transport failure: counted, connection reopened
                t1 = time.perf_counter()
                result.all_statuses[status] += 1
                if window_start <= t1 < window_end:
                    result.statuses[status] += 1
                    result.latencies.append(t1 - t0)
        finally:
            conn.close()
            finished.append(time.perf_counter())

    async def measure_cpu() -> None:
        if meter is None:
            return
        await asyncio.sleep(max(0.0, window_start - time.perf_counter()))
        meter.start()
        await asyncio.sleep(max(0.0, window_end - time.perf_counter()))
        result.cpu = meter.stop()

    cpu_task = asyncio.create_task(measure_cpu())
    await asyncio.gather(*(client(i) for i in range(concurrency)))
    end = min(window_end, max(finished))
    result.window_s = max(0.0, end - window_start)
    if not cpu_task.done():  # the clients ran out of work before the window ended
        cpu_task.cancel()
        if meter is not None and result.window_s > 0:
            result.cpu = meter.stop()
    else:
        await cpu_task
    return result


async def fire_together(ports: list[int], requests: list[Request]) -> list[tuple[int, float]]:
    """Open one connection per request, then send all at once: (status, seconds) of each."""
    conns = [Connection(HOST, ports[i % len(ports)]) for i in range(len(requests))]
    try:
        await asyncio.gather(*(c.open() for c in conns))
        go = asyncio.Event()

        async def one(conn: Connection, request: Request) -> tuple[int, float]:
            await go.wait()
            t0 = time.perf_counter()
            answer = await conn.request(
                request.method, request.target, request.headers, request.body
            )
            return answer.status, time.perf_counter() - t0

        tasks = [asyncio.create_task(one(c, r)) for c, r in zip(conns, requests, strict=True)]
        await asyncio.sleep(0)  # let every task reach the gate
        go.set()
        return list(await asyncio.gather(*tasks))
    finally:
        for c in conns:
            c.close()
