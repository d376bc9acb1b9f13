"""Cost curves (`python -m bench scale`): how each cost grows with the size of what it reads.

Each curve is measured at three or more sizes, and the growth factor between consecutive
sizes is printed next to the size factor, so a curve that grows faster than its input shows:

- slot search, 28 days, one service, for N consultants (a fresh network per size);
- booking p50/p99 with N existing bookings, bulk-seeded with generate_series far in the
  past (from 1900 on), so no slot search or feed sees them; only the indexes and the
  exclusion constraint do;
- a consultant's calendar feed of N events, its first render in the process (cold) and
  the conditional GET after one booking of it was cancelled;
- the registry caseload of a clinic with N open episodes (a fresh network per size);
- slot search with `limit` (the first N open slots) over 7, 28 and 92 days, next to the same
  windows without it (bench/limit_search.py);
- the outbox drain: N queued webhook events to a loopback receiver, by one and by two
  processes (bench/outbox_drain.py).

Each curve's correctness facts (no overlapping bookings and as many rows as `201`s, every feed
event rendered, exact registry answers, limited answers exactly the first N, every webhook
event delivered exactly once) are gathered in `checks`; `all_checks_passed` is false if any
failed.
"""

from __future__ import annotations

import itertools
import random
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from bench import booking, database, limit_search, outbox_drain, registry, search
from bench.api import bearer, cancel, fetch_open_slots
from bench.config import ScaleSizes, Sizes
from bench.http import Connection
from bench.load import HOST
from bench.machine import rss_mb
from bench.network import Network
from bench.run import _ready, _roles, say, seed
from bench.servers import Server, start_telehub
from bench.stats import summary


@dataclass
class Point:
    """One generated network with its server running."""

    db: database.Database
    network: Network
    server: Server
    now: datetime

    @property
    def roles(self) -> dict[str, list[int]]:
        """The processes whose CPU a measurement attributes."""
        return _roles([self.server], self.db)


@asynccontextmanager
async def _point(
    admin_url: str, data_dir: Path | None, sizes: Sizes, logs: Path
) -> AsyncIterator[Point]:
    db = await database.create(admin_url, data_dir)
    server: Server | None = None
    try:
        now = datetime.now(UTC)
        network, _ = await seed(db, sizes, now)
        server = start_telehub("telehub-scale", db.url, logs)
        await _ready(server)
        yield Point(db, network, server, now)
    finally:
        if server is not None:
            server.stop()
        await database.drop(db)


def growth(points: list[dict[str, Any]], size_key: str, value_key: str) -> list[dict[str, Any]]:
    """Between consecutive sizes: how much the size grew and how much the figure grew."""
    steps = []
    for a, b in itertools.pairwise(points):
        if not a[value_key] or not b[value_key]:
            continue
        steps.append(
            {
                "from": a[size_key],
                "to": b[size_key],
                "size_factor": round(b[size_key] / a[size_key], 2),
                "figure_factor": round(b[value_key] / a[value_key], 2),
            }
        )
    return steps


def _curve(
    title: str, size_key: str, unit: str, points: list[dict[str, Any]], keys: tuple[str, ...]
) -> dict[str, Any]:
    return {
        "title": title,
        "size": size_key,
        "unit": unit,
        "series": list(keys),
        "points": points,
        "growth": {k: growth(points, size_key, k) for k in keys},
    }


async def search_curve(
    admin_url: str, data_dir: Path | None, scale: ScaleSizes, logs: Path
) -> dict[str, Any]:
    """Slot search, 28 days, one service, at each number of consultants."""
    points = []
    for n in scale.search_consultants:
        say(f"   slot search: {n} consultants")
        sizes = replace(scale.base, consultants=n, search_samples_28=scale.search_samples, weeks=5)
        async with _point(admin_url, data_dir, sizes, logs) as p:
            r = await search.slot_search(
                p.server.port, p.network, 28, scale.search_samples, sizes, p.roles
            )
        points.append(
            {
                "consultants": n,
                "p50_ms": r["latency"]["p50_ms"],
                "p99_ms": r["latency"]["p99_ms"],
                "server_cpu_ms_per_search": r["server_cpu_ms_per_search"],
                "slots_per_answer_mean": r["slots_per_answer"]["mean"],
                "samples": r["latency"]["count"],
            }
        )
    return _curve(
        "Slot search, 28 days, one service",
        "consultants",
        "ms",
        points,
        ("p50_ms", "p99_ms", "server_cpu_ms_per_search"),
    )


PAST_BOOKINGS = """
INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period, blocked,
                      status, reason, created_by, created_at, updated_at)
SELECT $1::bigint, ($2::bigint[])[1 + g % cardinality($2::bigint[])], $3::bigint,
       $4::uuid, tstzrange(t, t + interval '30 minutes'), tstzrange(t, t + interval '30 minutes'),
       'completed', 'Follow-up', 'bench:seed', t, t
FROM generate_series($5::bigint, $6::bigint - 1) AS g,
     LATERAL (SELECT timestamptz '1900-01-01 00:00+00'
                     + (g / cardinality($2::bigint[])) * interval '1 hour' AS t) AS at
"""


async def _seed_past(url: str, network: Network, first: int, last: int) -> float:
    """Bookings number first..last-1, one an hour per consultant from 1900: seconds taken."""
    began = time.perf_counter()
    spoke = network.spokes[0]
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(
            PAST_BOOKINGS,
            network.services["econsult"].id,
            [p.id for p in network.people],
            spoke.id,
            spoke.patients[0],
            first,
            last,
        )
        await conn.execute("VACUUM ANALYZE bookings")
    finally:
        await conn.close()
    return time.perf_counter() - began


async def booking_curve(p: Point, scale: ScaleSizes) -> dict[str, Any]:
    """Booking latency (closed loop, the base concurrency) as past bookings pile up."""
    network = p.network
    start = datetime.combine(network.first_day + timedelta(days=1), datetime.min.time(), UTC)
    end = datetime.combine(network.last_day + timedelta(days=1), datetime.min.time(), UTC)
    slots = await fetch_open_slots(p.server.port, network, start, end)
    sizes = replace(scale.base, duration_s=scale.booking_seconds)
    bench = booking.Bench(network, slots, sizes, random.Random(5), booking.Ledger(p.db.url))
    points, have = [], 0
    for n in scale.existing_bookings:
        say(f"   booking: {n:,} existing bookings")
        seeded = await _seed_past(p.db.url, network, have, n)
        have = n
        r = await booking.telehub_run(bench, [p.server.port], p.roles, f"scale-{n}")
        points.append(
            {
                "existing_bookings": n,
                "p50_ms": r["latency"]["p50_ms"],
                "p99_ms": r["latency"]["p99_ms"],
                "bookings_per_s": r["bookings_per_s"],
                "server_cpu_ms_per_request": r["cpu_ms_per_request"].get("server"),
                "postgres_cpu_ms_per_request": r["cpu_ms_per_request"].get("postgres"),
                "other_cores": r["cores_used"].get("other"),
                "statuses": r["statuses"],
                "seed_seconds": round(seeded, 1),
            }
        )
    created = sum(c["checked"] for c in bench.ledger.checks.values())
    return {
        **_curve(
            "Booking with N existing bookings",
            "existing_bookings",
            "ms",
            points,
            ("p50_ms", "p99_ms"),
        ),
        "overlaps": bench.ledger.checks,
        "rows_created": created,
        "answers_201": bench.ledger.statuses[201],
        "concurrency": sizes.concurrency,
    }


FEED_BOOKINGS = """
INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period, blocked,
                      status, reason, created_by, created_at, updated_at)
SELECT $1::bigint, $2::bigint, $3::bigint, $4::uuid,
       tstzrange(t, t + interval '15 minutes'), tstzrange(t, t + interval '15 minutes'),
       CASE WHEN t < now() THEN 'completed' ELSE 'booked' END, 'Follow-up', 'bench:seed',
       now() - interval '40 days', now() - interval '40 days'
FROM generate_series(0, $5::int - 1) AS g,
     LATERAL (SELECT date_trunc('minute', now()) - interval '29 days'
                     + g * (interval '208 days' / $5::int) AS t) AS at
"""


async def _feed_path(conn: Connection, network: Network, consultant_id: int) -> str:
    answer = await conn.request(
        "POST", f"/api/v1/consultants/{consultant_id}/feed", bearer(network.hub_token)
    )
    if answer.status != 201:
        raise RuntimeError(f"feed URL: {answer.status} {answer.body[:300]!r}")
    return str(urlsplit(answer.json()["url"]).path)


async def feed_curve(p: Point, scale: ScaleSizes) -> dict[str, Any]:
    """Each size on a consultant of its own (the base network has no bookings of its own):
    the cold render, then conditional GETs each after one of their bookings is cancelled."""
    network = p.network
    spoke = network.spokes[0]
    people = network.people[-len(scale.feed_events) :]
    db = await asyncpg.connect(p.db.url)
    conn = Connection(HOST, p.server.port)
    points = []
    try:
        for person, n in zip(people, scale.feed_events, strict=True):
            say(f"   feed: {n:,} events")
            await db.execute(
                FEED_BOOKINGS,
                network.services["econsult"].id,
                person.id,
                spoke.id,
                spoke.patients[0],
                n,
            )
            path = await _feed_path(conn, network, person.id)
            t0 = time.perf_counter()
            answer = await conn.request("GET", path, {})
            cold = time.perf_counter() - t0
            if answer.status != 200:
                raise RuntimeError(f"feed answered {answer.status}")
            events = answer.body.count(b"BEGIN:VEVENT")
            etag = answer.headers["etag"]
            ids = await db.fetch(
                "SELECT id FROM bookings WHERE consultant_id = $1 AND status = 'booked' "
                "ORDER BY lower(period) LIMIT $2",
                person.id,
                scale.feed_change_samples,
            )
            changed = []
            for row in ids:
                request = cancel(network, str(row["id"]))
                done = await conn.request(
                    request.method, request.target, request.headers, request.body
                )
                if done.status != 200:
                    raise RuntimeError(f"cancel answered {done.status}")
                t0 = time.perf_counter()
                answer = await conn.request("GET", path, {"If-None-Match": etag})
                changed.append(time.perf_counter() - t0)
                if answer.status != 200:
                    raise RuntimeError(f"feed after a change answered {answer.status}")
                etag = answer.headers["etag"]
            after = summary(changed)
            points.append(
                {
                    "events": n,
                    "events_rendered": events,
                    "cold_ms": round(cold * 1000, 2),
                    "after_one_change_p50_ms": after.get("p50_ms", 0),
                    "feed_kb": round(len(answer.body) / 1024, 1),
                    "server_rss_mb": rss_mb(p.server.proc.pid),
                }
            )
    finally:
        conn.close()
        await db.close()
    return _curve(
        "Calendar feed of N events",
        "events",
        "ms",
        points,
        ("cold_ms", "after_one_change_p50_ms"),
    )


async def registry_curve(
    admin_url: str, data_dir: Path | None, scale: ScaleSizes, logs: Path
) -> dict[str, Any]:
    """The registry caseload of a clinic with N open episodes (a fresh network per size)."""
    points = []
    for n in scale.registry_episodes:
        say(f"   registry: {n:,} open episodes")
        async with _point(admin_url, data_dir, scale.base, logs) as p:
            r = await registry.caseload(
                p.server.port,
                p.db.url,
                p.network,
                samples=scale.search_samples,
                quiet_wait_s=scale.base.quiet_wait_s,
                today=p.now.date(),
                episodes=n,
            )
        points.append(
            {
                "episodes": n,
                "p50_ms": r["latency"]["p50_ms"],
                "p99_ms": r["latency"]["p99_ms"],
                "body_kb": r["body_kb"],
                "exact_answers": r["answers_listing_exactly_the_open_episodes"] == r["answers"],
            }
        )
    return _curve("Registry caseload of a clinic", "episodes", "ms", points, ("p50_ms", "p99_ms"))


async def limit_curve(
    admin_url: str, data_dir: Path | None, scale: ScaleSizes, logs: Path
) -> dict[str, Any]:
    """Slot search with `limit` over each window, on one network with hours for 14 weeks
    (so a 92-day window slides inside them), next to the same windows without a limit."""
    sizes = replace(scale.base, weeks=max(scale.base.weeks, 14))
    points = []
    async with _point(admin_url, data_dir, sizes, logs) as p:
        for days in scale.limit_days:
            say(f"   slot search, limit={scale.limit}: {days} days")
            points.append(
                await limit_search.limit_point(
                    p.server.port,
                    p.network,
                    days,
                    scale.limit,
                    scale.search_samples,
                    sizes,
                    p.roles,
                )
            )
    return {
        **_curve(
            f"Slot search, limit={scale.limit}, one service, {sizes.consultants} consultants",
            "days",
            "ms",
            points,
            ("p50_ms", "p99_ms", "server_cpu_ms_per_search", "without_limit_p50_ms"),
        ),
        "consultants": sizes.consultants,
    }


async def drain_curve(
    admin_url: str, data_dir: Path | None, scale: ScaleSizes, logs: Path
) -> dict[str, Any]:
    """The outbox drain's events per second, by the number of processes."""
    points = await outbox_drain.drain_points(
        admin_url, data_dir, scale.drain_events, scale.drain_processes, scale.base, logs
    )
    return _curve(
        f"Outbox drain, {scale.drain_events:,} webhook events",
        "processes",
        "events/s",
        points,
        ("events_per_s",),
    )


def checks(made: dict[str, Any]) -> dict[str, bool]:
    """Each curve's correctness facts; timings never fail a run."""
    found: dict[str, bool] = {}
    if "booking" in made:
        b = made["booking"]
        found["booking_no_overlaps"] = all(
            c["periods"] == 0 and c["with_buffers"] == 0 for c in b["overlaps"].values()
        )
        found["booking_rows_equal_201s"] = b["rows_created"] == b["answers_201"]
    if "feed" in made:
        found["feed_every_event_rendered"] = all(
            p["events_rendered"] == p["events"] for p in made["feed"]["points"]
        )
    if "registry" in made:
        found["registry_exact"] = all(p["exact_answers"] for p in made["registry"]["points"])
    if "slot_search_limit" in made:
        found["limit_first_n_exact"] = all(
            p["first_n_exact"] for p in made["slot_search_limit"]["points"]
        )
    if "outbox_drain" in made:
        found["outbox_exactly_once"] = all(
            p["exactly_once"] for p in made["outbox_drain"]["points"]
        )
    return found


async def curves(
    admin_url: str, data_dir: Path | None, scale: ScaleSizes, logs: Path
) -> dict[str, Any]:
    """Every curve; each point's server and database are gone when it is done."""
    began = time.perf_counter()
    made: dict[str, Any] = {"sizes": scale.as_dict()}
    say("cost curves: slot search")
    made["slot_search"] = await search_curve(admin_url, data_dir, scale, logs)
    say("cost curves: booking and feeds, on one network")
    base = replace(scale.base, consultants=max(scale.base.consultants, len(scale.feed_events) + 2))
    async with _point(admin_url, data_dir, base, logs) as p:
        made["feed"] = await feed_curve(p, scale)  # first: its bookings close their slots
        made["booking"] = await booking_curve(p, scale)
    say("cost curves: registry caseload")
    made["registry"] = await registry_curve(admin_url, data_dir, scale, logs)
    say("cost curves: slot search with a limit")
    made["slot_search_limit"] = await limit_curve(admin_url, data_dir, scale, logs)
    say("cost curves: outbox drain")
    made["outbox_drain"] = await drain_curve(admin_url, data_dir, scale, logs)
    made["checks"] = checks(made)
    made["all_checks_passed"] = all(made["checks"].values())
    made["run_seconds"] = round(time.perf_counter() - began, 1)
    return made


def table(made: dict[str, Any]) -> str:
    """Each curve's points and growth factors, as printed text."""
    lines = []
    for key in CURVES:
        curve = made[key]
        lines.append(f"\n{curve['title']} (by {curve['size']})")
        for point in curve["points"]:
            figures = ", ".join(f"{k} {point[k]}" for k in curve["series"])
            lines.append(f"  {point[curve['size']]:>10,}: {figures}")
        for series, steps in curve["growth"].items():
            shown = "; ".join(
                f"{s['from']:,}->{s['to']:,}: x{s['size_factor']} size, x{s['figure_factor']}"
                for s in steps
            )
            lines.append(f"  growth of {series}: {shown}")
    failed = [name for name, met in made.get("checks", {}).items() if not met]
    lines.append(f"\nchecks: {'FAILED ' + ', '.join(failed) if failed else 'all passed'}")
    return "\n".join(lines)


CURVES = ("slot_search", "slot_search_limit", "booking", "feed", "registry", "outbox_drain")
