"""6. Courses of sessions: booking one series of 12 weekly sessions (POST /api/v1/series),
next to booking one single session (POST /api/v1/bookings), in the same run on the same server.

Counselors of their own (weekday hours for 15 weeks, in New York like the Vermont clinics that
book them) give every request a time of its own: a series takes one weekly lane (a weekday
and an hour, twelve weeks running), a single booking one week of another lane. The requests
go one at a time, a single booking then a series, so both see the same server and machine and
their latencies compare; this is latency, not throughput. The section runs last: it adds
bookings the throughput sections' integrity check would otherwise count.
"""

from __future__ import annotations

import json
import math
import random
import time as clock
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench import integrity
from bench.api import bearer, utc_text
from bench.http import Connection
from bench.load import HOST
from bench.machine import wait_quiet
from bench.network import Network, SpokeCaller
from bench.stats import summary
from hub import store as hub_store
from scheduling import store as scheduling_store

SESSIONS = 12  # "series of 12 weekly sessions"
ZONE = ZoneInfo("America/New_York")  # the counselors' and the Vermont clinics' zone
HOURS = range(8, 18)  # a 50-minute session and 10 minutes' buffer: one an hour, 08:00-17:00
DAYS = range(5)
LANES_PER_COUNSELOR = len(HOURS) * len(DAYS)
WARMUP = 1  # pairs sent first and not timed: the connection and the server's caches warm up


@dataclass(frozen=True, slots=True)
class Lane:
    """One counselor's weekday and hour, twelve weeks running."""

    consultant_id: int
    starts: tuple[str, ...]  # UTC, one a week


def _lanes_of(consultant_id: int, first: date) -> list[Lane]:
    lanes = []
    for day in DAYS:
        begin = first + timedelta(days=(day - first.weekday()) % 7)
        for hour in HOURS:
            starts = tuple(
                utc_text(datetime.combine(begin + timedelta(weeks=w), time(hour), ZONE))
                for w in range(SESSIONS)
            )
            lanes.append(Lane(consultant_id, starts))
    return lanes


async def counselors(database_url: str, network: Network, lanes: int, today: date) -> list[Lane]:
    """Enough counselors (Vermont, New York hours, counseling only) for `lanes` lanes."""
    service = network.services["counseling"]
    first = today + timedelta(days=2)  # past the service's minimum notice
    made: list[Lane] = []
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            for n in range(math.ceil(lanes / LANES_PER_COUNSELOR)):
                person = await hub_store.insert_consultant(
                    conn,
                    name=f"Bench Counselor {n:03d}",
                    credentials="LICSW",
                    role="telehealth_counselor",
                    timezone=ZONE.key,
                    licensed_states=["VT"],
                    service_ids=[service.id],
                )
                rules = [
                    scheduling_store.RuleRow(
                        d,
                        time(HOURS[0]),
                        time(HOURS[-1] + 1),
                        None,
                        today,
                        today + timedelta(weeks=15),
                    )
                    for d in DAYS
                ]
                await scheduling_store.replace_availability(conn, person.id, rules, [])
                made += _lanes_of(person.id, first)
    finally:
        await conn.close()
    return made[:lanes]


def _headers(spoke: SpokeCaller) -> dict[str, str]:
    return {
        **bearer(spoke.token),
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }


async def _timed(
    conn: Connection, target: str, spoke: SpokeCaller, body: dict[str, Any]
) -> tuple[int, float]:
    payload = json.dumps(body).encode()
    began = clock.perf_counter()
    answer = await conn.request("POST", target, _headers(spoke), payload)
    return answer.status, clock.perf_counter() - began


async def series_vs_single(
    port: int,
    database_url: str,
    network: Network,
    *,
    samples: int,
    quiet_wait_s: float,
    today: date,
) -> dict[str, Any]:
    """`samples` series of 12 weekly sessions and as many single bookings, interleaved."""
    sent = samples + WARMUP
    singles_lanes = math.ceil(sent / SESSIONS)
    lanes = await counselors(database_url, network, sent + singles_lanes, today)
    series_lanes, single_lanes = lanes[:sent], lanes[sent:]
    single_slots = [(lane.consultant_id, s) for lane in single_lanes for s in lane.starts]
    clinics = [s for s in network.spokes if s.state == "VT"]
    rng = random.Random(12)  # synthetic choices
    service_id = network.services["counseling"].id
    busy_before = await wait_quiet(quiet_wait_s)
    conn = Connection(HOST, port)
    times: dict[str, list[float]] = {"series": [], "single": []}
    statuses: dict[str, Counter[int]] = {"series": Counter(), "single": Counter()}
    try:
        for n, (lane, (single_consultant, single_start)) in enumerate(
            zip(series_lanes, single_slots, strict=False)
        ):
            counted = n >= WARMUP  # answers all count; times once the connection is warm
            spoke = rng.choice(clinics)
            status, seconds = await _timed(
                conn,
                "/api/v1/bookings",
                spoke,
                {
                    "service_id": service_id,
                    "consultant_id": single_consultant,
                    "patient_id": rng.choice(spoke.patients),
                    "start": single_start,
                },
            )
            statuses["single"][status] += 1
            if counted:
                times["single"].append(seconds)
            status, seconds = await _timed(
                conn,
                "/api/v1/series",
                spoke,
                {
                    "service_id": service_id,
                    "consultant_id": lane.consultant_id,
                    "patient_id": rng.choice(spoke.patients),
                    "first_start": lane.starts[0],
                    "repeat": "weekly",
                    "count": SESSIONS,
                },
            )
            statuses["series"][status] += 1
            if counted:
                times["series"].append(seconds)
    finally:
        conn.close()
    return {
        "sessions_per_series": SESSIONS,
        "series": _figures(times["series"], statuses["series"]),
        "single": _figures(times["single"], statuses["single"]),
        "method": "one request at a time, a single booking then a series, on one server "
        f"(after {WARMUP} untimed pair)",
        "machine_busy_before": busy_before,
        "booked": await _booked(database_url, sorted({lane.consultant_id for lane in lanes})),
        "overlaps": await integrity.overlaps(database_url),
    }


def _figures(seconds: list[float], statuses: Counter[int]) -> dict[str, Any]:
    return {
        "latency": summary(seconds),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
    }


async def _booked(database_url: str, consultant_ids: list[int]) -> dict[str, int]:
    """The section's bookings as stored: in a series, and on their own."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            """
            SELECT count(*) FILTER (WHERE series_id IS NOT NULL) AS in_series,
                   count(*) FILTER (WHERE series_id IS NULL) AS single,
                   count(DISTINCT series_id) AS series
            FROM bookings WHERE consultant_id = ANY($1::bigint[]) AND status = 'booked'
            """,
            sorted(set(consultant_ids)),
        )
    finally:
        await conn.close()
    assert row is not None
    return dict(row)
