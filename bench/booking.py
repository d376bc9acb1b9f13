"""2, 3 and 5. Booking throughput against a bare-INSERT baseline, contention, and scale-out.

Throughput runs are repeated in interleaved rounds (baseline, telehub, baseline, telehub...)
and the best run of each side is kept: on a small shared machine a run can lose a core to
something else, and the best run is the one closest to what the software can do. After every
telehub run the overlap check runs, then the run's bookings are cancelled, so each run books
from the same pool of open slots.
"""

from __future__ import annotations

import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from bench import integrity
from bench.api import OpenSlot, SlotPool, baseline_inserts, booking, bookings_from
from bench.config import Sizes
from bench.load import closed_loop, fire_together
from bench.machine import CpuMeter, wait_quiet
from bench.network import Network
from bench.stats import summary


@dataclass
class Ledger:
    """Every booking answer of the run, and the overlap check after each booking phase."""

    database_url: str
    statuses: Counter[int] = field(default_factory=Counter)
    checks: dict[str, dict[str, int]] = field(default_factory=dict)

    async def settle(self, phase: str, statuses: Counter[int]) -> None:
        """Count a phase's answers, check for overlaps, then release its bookings."""
        self.statuses.update(statuses)
        self.checks[phase] = await integrity.overlaps(self.database_url)
        await integrity.release(self.database_url)


@dataclass
class Bench:
    """What every throughput run needs."""

    network: Network
    slots: list[OpenSlot]
    sizes: Sizes
    rng: random.Random
    ledger: Ledger


async def telehub_run(
    bench: Bench, ports: list[int], roles: dict[str, list[int]], phase: str
) -> dict[str, Any]:
    """Many clients booking distinct open slots on telehub for a fixed time."""
    sizes = bench.sizes
    pool = SlotPool(bench.slots, bench.rng)
    busy_before = await wait_quiet(sizes.quiet_wait_s)
    result = await closed_loop(
        ports,
        sizes.concurrency,
        sizes.warmup_s,
        sizes.duration_s,
        bookings_from(bench.network, pool, bench.rng),
        CpuMeter(roles),
    )
    await bench.ledger.settle(phase, result.all_statuses)
    return {**result.figures(201, "bookings_per_s"), "machine_busy_before": busy_before}


async def baseline_run(bench: Bench, port: int, roles: dict[str, list[int]]) -> dict[str, Any]:
    """The same load against the bare one-INSERT handler."""
    sizes = bench.sizes
    busy_before = await wait_quiet(sizes.quiet_wait_s)
    result = await closed_loop(
        [port],
        sizes.concurrency,
        sizes.warmup_s,
        sizes.duration_s,
        baseline_inserts(bench.network, bench.slots[:2000], bench.rng),
        CpuMeter(roles),
    )
    return {**result.figures(201, "requests_per_s"), "machine_busy_before": busy_before}


def best(runs: list[dict[str, Any]], rate: str) -> dict[str, Any]:
    """The run with the highest rate, with every run's rate alongside."""
    top = max(runs, key=lambda r: r[rate])
    return {**top, "runs": [r[rate] for r in runs]}


def _cost(run: dict[str, Any]) -> float:
    return float(sum(run["cpu_ms_per_request"].values()))


def cost_ratio(telehub: list[dict[str, Any]], baseline: list[dict[str, Any]]) -> float | None:
    """Baseline CPU per request ÷ telehub CPU per booking (server + postgres + load), medians.

    What the throughput ratio would be on a machine whose every core is shared by all three,
    and much steadier than throughput when something else also runs on the machine.
    """
    costs_t = sorted(_cost(r) for r in telehub if r["cpu_ms_per_request"])
    costs_b = sorted(_cost(r) for r in baseline if r["cpu_ms_per_request"])
    if not costs_t or not costs_b:
        return None
    return round(costs_b[len(costs_b) // 2] / costs_t[len(costs_t) // 2], 3)


async def contended(bench: Bench, port: int) -> dict[str, Any]:
    """Rounds of N clients racing for M slots (N/M per slot): exactly M may win each round."""
    sizes = bench.sizes
    pool = SlotPool(bench.slots, bench.rng)
    per_round: list[dict[str, int]] = []
    latencies: list[float] = []
    answers: Counter[int] = Counter()
    for _ in range(sizes.contended_rounds):
        slots = pool.take_many(sizes.contended_slots)
        requests = [
            booking(bench.network, slots[i % len(slots)], bench.rng, "/api/v1/bookings")
            for i in range(sizes.contended_clients)
        ]
        results = await fire_together([port], requests)
        statuses = Counter(status for status, _ in results)
        answers.update(statuses)
        per_round.append({str(k): v for k, v in sorted(statuses.items())})
        latencies.extend(seconds for _, seconds in results)
    await bench.ledger.settle("contended", answers)
    successes = answers[201]
    expected = sizes.contended_slots * sizes.contended_rounds
    return {
        "clients": sizes.contended_clients,
        "slots": sizes.contended_slots,
        "rounds": sizes.contended_rounds,
        "successes": successes,
        "expected_successes": expected,
        "exact": all(r.get("201", 0) == sizes.contended_slots for r in per_round),
        "statuses_per_round": per_round,
        "latency": summary(latencies),
    }
