"""Groups for tests, made through the real domain: `group(...)` through groups.create, and
`enrol(...)` through group_seats.enrol, each in a transaction of its own."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import asyncpg

from hub import store as hub_store
from scheduling import group_seats, groups
from scheduling.group_seats import Enrolment
from scheduling.groups_schemas import GroupIn
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.validation import validate
from tests.factories.network import Network, SpokeUser

HUB = Caller("hub_admin", "test-hub", KIND_SCOPES["hub_admin"])
# A week after the conftest clock (Monday 1 March 2027, 15:00 UTC): every occurrence is to come.
FIRST_START = datetime(2027, 3, 8, 23, 0, tzinfo=UTC)  # 18:00 in New York
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


def spoke_caller(spoke: SpokeUser) -> Caller:
    """The spoke's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


async def counselor(
    network: Network, *, states: Sequence[str] = ("VT", "NY", "WA", "CA", "TX", "NM")
) -> hub_store.Consultant:
    """A New York counselor offering a new 60-minute group_session service."""
    service = await network.service(
        kind="group_session", name=f"Group {uuid.uuid4().hex[:6]}", roles=["telehealth_counselor"]
    )
    return await network.consultant(
        [service], timezone="America/New_York", states=states, role="telehealth_counselor"
    )


async def group(
    network: Network,
    *,
    capacity: int = 8,
    count: int = 4,
    title: str = "MOUD support group",
    first_start: datetime = FIRST_START,
    states: Sequence[str] = ("VT", "NY", "WA", "CA", "TX", "NM"),
    now: datetime = NOW,
) -> groups.Group:
    """A weekly group of `count` occurrences with `capacity` seats, made by the hub."""
    runner = await counselor(network, states=states)
    body = validate(
        GroupIn,
        {
            "service_id": runner.service_ids[0],
            "consultant_id": runner.id,
            "title": title,
            "capacity": capacity,
            "first_start": first_start.isoformat(),
            "repeat": "weekly" if count > 1 else "once",
            "count": count,
        },
    )
    async with network.pool.acquire() as conn, conn.transaction():
        return await groups.create(conn, HUB, Trail(HUB.actor), body, now)


async def enrol(
    network: Network,
    spoke: SpokeUser,
    group_id: uuid.UUID,
    patient_id: uuid.UUID,
    *,
    from_: int | None = None,
    now: datetime = NOW,
) -> Enrolment:
    """The spoke's patient enrolled in the group (from an occurrence on), committed."""
    caller = spoke_caller(spoke)
    async with network.pool.acquire() as conn, conn.transaction():
        return await group_seats.enrol(
            conn, caller, Trail(caller.actor), group_id, patient_id, from_, now
        )


async def seats_held(conn: asyncpg.Connection, group_id: uuid.UUID) -> dict[int, list[int]]:
    """Held seat numbers per occurrence position (released ones left out)."""
    rows = await conn.fetch(
        """
        SELECT o.position, s.seat_no FROM group_seats s
        JOIN group_occurrences o ON o.id = s.occurrence_id
        WHERE o.group_id = $1 AND s.attendance <> 'released'
        ORDER BY o.position, s.seat_no
        """,
        group_id,
    )
    held: dict[int, list[int]] = {}
    for r in rows:
        held.setdefault(r["position"], []).append(r["seat_no"])
    return held


def later(days: int) -> datetime:
    """NOW moved on by whole days."""
    return NOW + timedelta(days=days)
