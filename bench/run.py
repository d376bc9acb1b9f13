"""One benchmark run: seed, start the servers, measure each section in a sensible order.

Order matters: slot search and feeds run first, on the seeded state (5,000 bookings);
the booking phases then each leave the calendar as they found it (their bookings are
checked for overlaps and cancelled), so every throughput run books from the same slots.
"""

from __future__ import annotations

import asyncio
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from bench import (
    booking,
    database,
    fhir_search,
    integrity,
    registry,
    search,
    seed_bookings,
    series,
)
from bench import groups as group_bench
from bench.api import fetch_open_slots
from bench.config import POOL_MAX, Sizes
from bench.feeds import feeds
from bench.machine import describe, rss_mb
from bench.network import Network, bench_settings, create_network
from bench.servers import Server, start_baseline, start_telehub
from telehub.db import connect, migrate_url


def say(message: str) -> None:
    """Progress, on stderr."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


async def seed(
    db: database.Database, sizes: Sizes, now: datetime
) -> tuple[Network, dict[str, Any]]:
    """Migrate, generate the network and its bookings; the facts for results.json."""
    began = time.perf_counter()
    await migrate_url(db.url)
    conn = await connect(db.url)
    try:
        network = await create_network(conn, bench_settings(db.url), sizes, now.date())
        rng = random.Random(11)  # synthetic data
        planned = seed_bookings.plan_network_bookings(network, sizes.existing_bookings, now, rng)
        for person in network.feed_people:
            planned += seed_bookings.plan_feed_bookings(
                network, person, sizes.feed_events, now.date()
            )
        async with conn.transaction():
            await seed_bookings.insert(conn, network, planned, now, rng)
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    return network, {
        "consultants": len(network.people),
        "spokes": len(network.spokes),
        "patients": sum(len(s.patients) for s in network.spokes),
        "weeks_of_availability": sizes.weeks,
        "existing_bookings": sizes.existing_bookings,
        "feed_consultants": len(network.feed_people),
        "bookings_per_feed_consultant": sizes.feed_events,
        "searched_service": network.search_service.name,
        "seed_seconds": round(time.perf_counter() - began, 1),
    }


async def _ready(*servers: Server) -> None:
    for server in servers:
        await asyncio.to_thread(server.wait_ready)


def _roles(servers: list[Server], db: database.Database) -> dict[str, list[int]]:
    roles = {"server": [s.proc.pid for s in servers], "load": [os.getpid()]}
    pg = database.postmaster_pid(db)
    if pg is not None:
        roles["postgres"] = [pg]
    return roles


async def _search(
    server: Server, db: database.Database, network: Network, sizes: Sizes
) -> dict[str, Any]:
    roles = _roles([server], db)
    return {
        f"{days}_days": await search.slot_search(server.port, network, days, n, sizes, roles)
        for days, n in ((7, sizes.search_samples_7), (28, sizes.search_samples_28))
    }


async def _fhir_search(
    server: Server,
    db: database.Database,
    network: Network,
    sizes: Sizes,
    results: dict[str, Any],
) -> dict[str, Any]:
    return await fhir_search.fhir_slot_search(
        server.port,
        network,
        sizes.search_samples_7,
        sizes,
        _roles([server], db),
        results["slot_search"]["7_days"],
    )


async def _throughput(
    bench: booking.Bench, first: Server, base: Server, db: database.Database
) -> dict[str, Any]:
    telehub, baseline = [], []
    for n in range(bench.sizes.rounds):
        say(f"   round {n + 1}/{bench.sizes.rounds}: baseline, then telehub")
        baseline.append(await booking.baseline_run(bench, base.port, _roles([base], db)))
        telehub.append(
            await booking.telehub_run(
                bench, [first.port], _roles([first], db), f"throughput-{n + 1}"
            )
        )
    best_t = booking.best(telehub, "bookings_per_s")
    best_b = booking.best(baseline, "requests_per_s")
    return {
        "telehub": best_t,
        "baseline": best_b,
        "ratio": round(best_t["bookings_per_s"] / (best_b["requests_per_s"] or 1), 3),
        "cpu_cost_ratio": booking.cost_ratio(telehub, baseline),
        "ratio_per_round": [
            round(t["bookings_per_s"] / (b["requests_per_s"] or 1), 3)
            for t, b in zip(telehub, baseline, strict=True)
        ],
        "method": f"best of {bench.sizes.rounds} interleaved rounds",
        "open_slots": len(bench.slots),
        "db_pool_max": POOL_MAX,
    }


async def _scale_out(
    bench: booking.Bench, first: Server, second: Server, db: database.Database
) -> dict[str, Any]:
    one, two = [], []
    for n in range(bench.sizes.scale_rounds):
        say(f"   round {n + 1}/{bench.sizes.scale_rounds}: one process, then two")
        one.append(
            await booking.telehub_run(bench, [first.port], _roles([first], db), f"scale-1-{n + 1}")
        )
        two.append(
            await booking.telehub_run(
                bench, [first.port, second.port], _roles([first, second], db), f"scale-2-{n + 1}"
            )
        )
    best_one = booking.best(one, "bookings_per_s")
    best_two = booking.best(two, "bookings_per_s")
    return {
        "one_process": best_one,
        "two_processes": best_two,
        "speedup": round(best_two["bookings_per_s"] / (best_one["bookings_per_s"] or 1), 2),
        "method": f"best of {bench.sizes.scale_rounds} interleaved rounds",
    }


async def run(db: database.Database, sizes: Sizes, logs: Path) -> dict[str, Any]:
    """Every section; servers are stopped whatever happens."""
    results: dict[str, Any] = {"machine": await describe(db.url)}
    now = datetime.now(UTC)
    say("seeding the network")
    network, results["network"] = await seed(db, sizes, now)
    first, base = start_telehub("telehub-1", db.url, logs), start_baseline(db.url, logs)
    second: Server | None = None
    # Each server's resident memory when ready, after sections, and at the end: feeds
    # (their rendered-text memo) once made it grow without bound.
    memory: dict[str, dict[str, float | None]] = {}
    results["server_memory_mb"] = memory
    try:
        await _ready(first, base)
        memory[first.name] = {"ready": rss_mb(first.proc.pid)}
        say("1. slot search")
        results["slot_search"] = await _search(first, db, network, sizes)
        say("1b. FHIR Slot search, next to the JSON slot search")
        results["fhir_slot_search"] = await _fhir_search(first, db, network, sizes, results)
        memory[first.name]["after_search"] = rss_mb(first.proc.pid)
        say("4. feeds")
        results["feeds"] = await feeds(first.port, network, db.url, sizes)
        memory[first.name]["after_feeds"] = rss_mb(first.proc.pid)
        start = datetime.combine(network.first_day + timedelta(days=1), datetime.min.time(), UTC)
        end = datetime.combine(network.last_day + timedelta(days=1), datetime.min.time(), UTC)
        slots = await fetch_open_slots(first.port, network, start, end)
        bench = booking.Bench(network, slots, sizes, random.Random(5), booking.Ledger(db.url))
        say("2. booking throughput")
        results["booking_throughput"] = await _throughput(bench, first, base, db)
        base.stop()
        say("3. contended booking")
        results["contended"] = await booking.contended(bench, first.port)
        say("5. scale-out")
        second = start_telehub("telehub-2", db.url, logs)
        await _ready(second)
        memory[second.name] = {"ready": rss_mb(second.proc.pid)}
        results["scale_out"] = await _scale_out(bench, first, second, db)
        for running in (first, second):
            memory[running.name]["end"] = rss_mb(running.proc.pid)
        say("integrity check")
        ledger = bench.ledger
        results["integrity"] = await integrity.check(db.url, ledger.statuses[201], ledger.checks)
        results["booking_answers"] = {str(k): v for k, v in sorted(ledger.statuses.items())}
        say("6. series of 12 weekly sessions, next to single bookings")
        results["series"] = await series.series_vs_single(
            first.port,
            db.url,
            network,
            samples=sizes.series_samples,
            quiet_wait_s=sizes.quiet_wait_s,
            today=now.date(),
        )
        say("7. enrol in a group, next to single booking")
        results["groups"] = await group_bench.enrol_throughput(
            first.port,
            db.url,
            network,
            groups_made=group_bench.enough_groups(sizes.concurrency, sizes.duration_s),
            concurrency=sizes.concurrency,
            warmup_s=sizes.warmup_s,
            duration_s=sizes.duration_s,
            quiet_wait_s=sizes.quiet_wait_s,
            today=now.date(),
            single=results["booking_throughput"]["telehub"],
        )
        say("8. registry caseload of a clinic")
        results["registry"] = await _registry(first.port, db, network, sizes, now)
    finally:
        for server in (first, second, base):
            if server is not None:
                server.stop()
    return results


async def _registry(
    port: int, db: database.Database, network: Network, sizes: Sizes, now: datetime
) -> dict[str, Any]:
    return await registry.caseload(
        port,
        db.url,
        network,
        samples=sizes.registry_samples,
        quiet_wait_s=sizes.quiet_wait_s,
        today=now.date(),
        episodes=sizes.registry_episodes,
    )


SECTIONS = ("booking", "registry", "search")  # the sections `--only` can run on their own


async def _booking_only(
    db: database.Database, network: Network, sizes: Sizes, first: Server, logs: Path
) -> dict[str, Any]:
    """Sections 2 and 3 alone: throughput next to the baseline, then contended booking,
    with the overlap check of every phase and rows = `201` answers at the end."""
    base = start_baseline(db.url, logs)
    try:
        await _ready(base)
        start = datetime.combine(network.first_day + timedelta(days=1), datetime.min.time(), UTC)
        end = datetime.combine(network.last_day + timedelta(days=1), datetime.min.time(), UTC)
        slots = await fetch_open_slots(first.port, network, start, end)
        bench = booking.Bench(network, slots, sizes, random.Random(5), booking.Ledger(db.url))
        say("2. booking throughput")
        results = {"booking_throughput": await _throughput(bench, first, base, db)}
    finally:
        base.stop()
    say("3. contended booking")
    results["contended"] = await booking.contended(bench, first.port)
    say("integrity check")
    ledger = bench.ledger
    results["integrity"] = await integrity.check(db.url, ledger.statuses[201], ledger.checks)
    results["booking_answers"] = {str(k): v for k, v in sorted(ledger.statuses.items())}
    return results


async def run_only(section: str, db: database.Database, sizes: Sizes, logs: Path) -> dict[str, Any]:
    """One section on the seeded network, its server stopped whatever happens."""
    assert section in SECTIONS
    results: dict[str, Any] = {"machine": await describe(db.url)}
    now = datetime.now(UTC)
    say("seeding the network")
    network, results["network"] = await seed(db, sizes, now)
    server = start_telehub("telehub-1", db.url, logs)
    try:
        await _ready(server)
        if section == "search":
            say("1. slot search")
            results["slot_search"] = await _search(server, db, network, sizes)
            say("1b. FHIR Slot search, next to the JSON slot search")
            results["fhir_slot_search"] = await _fhir_search(server, db, network, sizes, results)
        elif section == "booking":
            results.update(await _booking_only(db, network, sizes, server, logs))
        else:
            say("8. registry caseload of a clinic")
            results["registry"] = await _registry(server.port, db, network, sizes, now)
    finally:
        server.stop()
    return results
