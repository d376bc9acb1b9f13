"""7. Enrol in a group: clinics enrolling patients in weekly groups of 12 occurrences
(POST /api/v1/groups/{id}/seats, a seat in every occurrence, all or none), as throughput under
the same closed loop (same clients, warm-up and window) as single booking's (section 2), with
p50 and p99, next to it.

Groups of their own (counselors of their own, each group at a weekday and hour of its own,
12 weeks running, up to 30 seats) keep the section off the other sections' consultants. The
requests go round-robin over the groups, so concurrent clinics mostly enrol in different
groups, as in a real week; enrolments in one group queue on its row lock, which is what keeps
its seats within capacity. Every 201 must have stored 12 seats, and no occurrence more seats
than its capacity.
"""

from __future__ import annotations

import json
import math
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg

from bench.api import bearer
from bench.load import Request, closed_loop
from bench.machine import wait_quiet
from bench.network import Network
from hub import store as hub_store
from scheduling import groups, services
from scheduling.groups_schemas import GroupIn
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.validation import validate

OCCURRENCES = 12  # weekly, like the series section's course
MAX_SEATS = 30
ZONE = ZoneInfo("America/New_York")
HOURS = range(8, 18)
DAYS = range(5)
HUB = Caller("hub_admin", "bench", KIND_SCOPES["hub_admin"])


async def make_groups(
    database_url: str, network: Network, count: int, today: date
) -> list[tuple[str, int]]:
    """`count` weekly groups of 12 and as many seats as there are patients (at most 30), run
    by new counselors licensed wherever the network's clinics are: (group id, capacity)."""
    patients = sum(len(s.patients) for s in network.spokes)
    capacity = max(2, min(MAX_SEATS, patients))
    states = sorted({s.state for s in network.spokes})
    lanes = [(d, h) for d in DAYS for h in HOURS]
    first = today + timedelta(days=2)
    made: list[tuple[str, int]] = []
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            service = await services.create(
                conn,
                kind="group_session",
                name=f"Bench group {uuid.uuid4().hex[:6]}",
                duration_minutes=60,
                roles=["telehealth_counselor"],
                horizon_days=120,
            )
            counselor_id = 0
            for n in range(count):
                if n % len(lanes) == 0:
                    person = await hub_store.insert_consultant(
                        conn,
                        name=f"Bench Group Counselor {n // len(lanes):03d}",
                        credentials="LICSW",
                        role="telehealth_counselor",
                        timezone=ZONE.key,
                        licensed_states=states,
                        service_ids=[service.id],
                    )
                    counselor_id = person.id
                day, hour = lanes[n % len(lanes)]
                begin = first + timedelta(days=(day - first.weekday()) % 7)
                body = validate(
                    GroupIn,
                    {
                        "service_id": service.id,
                        "consultant_id": counselor_id,
                        "title": f"Bench support group {n:03d}",
                        "capacity": capacity,
                        "first_start": datetime.combine(begin, time(hour), ZONE).isoformat(),
                        "repeat": "weekly",
                        "count": OCCURRENCES,
                    },
                )
                group = await groups.create(conn, HUB, Trail(HUB.actor), body, now)
                made.append((str(group.id), capacity))
    finally:
        await conn.close()
    return made


def enrolments(network: Network, made: list[tuple[str, int]]) -> Callable[[], Request | None]:
    """Enrolment requests, round-robin over the groups, each patient once per group."""
    everyone = [(s, p) for s in network.spokes for p in s.patients]
    queue: list[Request] = []
    for seat in range(max((c for _, c in made), default=0)):
        for group_id, capacity in made:
            if seat >= capacity:
                continue
            spoke, patient = everyone[seat % len(everyone)]
            headers = {
                **bearer(spoke.token),
                "Idempotency-Key": uuid.uuid4().hex,
                "Content-Type": "application/json",
            }
            body = json.dumps({"patient_id": patient}).encode()
            queue.append(Request("POST", f"/api/v1/groups/{group_id}/seats", headers, body))
    pending = iter(queue)

    def next_request() -> Request | None:
        return next(pending, None)

    return next_request


async def enrol_throughput(
    port: int,
    database_url: str,
    network: Network,
    *,
    groups_made: int,
    concurrency: int,
    warmup_s: float,
    duration_s: float,
    quiet_wait_s: float,
    today: date,
    single: dict[str, Any],
) -> dict[str, Any]:
    """Enrolments per second under the closed loop, beside section 2's single bookings."""
    made = await make_groups(database_url, network, groups_made, today)
    busy_before = await wait_quiet(quiet_wait_s)
    loaded = await closed_loop([port], concurrency, warmup_s, duration_s, enrolments(network, made))
    figures = loaded.figures(201, "enrolments_per_s")
    return {
        "occurrences_per_group": OCCURRENCES,
        "groups": len(made),
        "seats_per_group": made[0][1] if made else 0,
        "enrol": figures,
        "answers": {str(k): v for k, v in sorted(loaded.all_statuses.items())},
        "single": {
            "bookings_per_s": single["bookings_per_s"],
            "latency": single["latency"],
            "concurrency": single["concurrency"],
        },
        "method": f"closed loop, {concurrency} clients on one server, {warmup_s:g} s warm-up and "
        f"{duration_s:g} s window, as section 2's single bookings",
        "machine_busy_before": busy_before,
        "stored": await _stored(database_url, [g for g, _ in made]),
    }


async def _stored(database_url: str, group_ids: list[str]) -> dict[str, int]:
    """The section's enrolments and seats as stored, and the most seats held in one occurrence
    beyond its capacity (must be 0)."""
    conn = await asyncpg.connect(database_url)
    try:
        row = await conn.fetchrow(
            """
            SELECT
              (SELECT count(*) FROM group_enrolments WHERE group_id = ANY($1::uuid[]))
                AS enrolments,
              (SELECT count(*) FROM group_seats s JOIN group_occurrences o
                 ON o.id = s.occurrence_id WHERE o.group_id = ANY($1::uuid[])) AS seats,
              (SELECT coalesce(max(greatest(held - capacity, 0)), 0) FROM (
                 SELECT o.capacity, count(s.id) AS held FROM group_occurrences o
                 LEFT JOIN group_seats s ON s.occurrence_id = o.id
                   AND s.attendance <> 'released'
                 WHERE o.group_id = ANY($1::uuid[]) GROUP BY o.id, o.capacity) AS t)
                AS over_capacity
            """,
            group_ids,
        )
    finally:
        await conn.close()
    assert row is not None
    return {k: int(v) for k, v in dict(row).items()}


def enough_groups(concurrency: int, duration_s: float, seats: int = MAX_SEATS) -> int:
    """Groups to make so the window does not run out of seats (a generous guess at the rate)."""
    return max(2, math.ceil(concurrency * 40 * (duration_s + 2) / seats))
