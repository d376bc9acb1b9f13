"""Racing for a counselor's time, each in its own transaction on its own connection: groups
against groups, and a group against 1:1 bookings; exactly one holds it."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, time
from typing import Any

import asyncpg

from scheduling import bookings, groups
from scheduling.groups_schemas import GroupIn
from telehub.audit import Trail
from telehub.errors import Conflict
from telehub.validation import validate
from tests.factories import Network
from tests.factories.groups import HUB, NOW

MONDAY_6PM = datetime(2027, 3, 8, 23, 0, tzinfo=UTC)  # 18:00 in New York
TRAIL = Trail("test")


def _body(service_id: int, consultant_id: int, title: str) -> GroupIn:
    values: dict[str, Any] = {
        "service_id": service_id,
        "consultant_id": consultant_id,
        "title": title,
        "capacity": 8,
        "first_start": MONDAY_6PM.isoformat(),
        "repeat": "weekly",
        "count": 2,
    }
    return validate(GroupIn, values)


async def test_of_many_groups_made_at_once_for_one_time_exactly_one_is(
    pool: asyncpg.Pool, network: Network
) -> None:
    service = await network.service(kind="group_session", name="MOUD support group")
    counselor = await network.consultant(
        [service], timezone="America/New_York", role="telehealth_counselor"
    )

    async def make(n: int) -> str:
        async with pool.acquire() as conn, conn.transaction():
            try:
                await groups.create(
                    conn, HUB, TRAIL, _body(service.id, counselor.id, f"Group {n}"), NOW
                )
            except groups.GroupTimeTaken:
                return "taken"
        return "made"

    outcomes = await asyncio.gather(*(make(n) for n in range(8)))

    async with pool.acquire() as conn:
        held = await conn.fetchval(
            "SELECT count(*) FROM consultant_holds WHERE consultant_id = $1", counselor.id
        )
    assert sorted(outcomes) == ["made"] + ["taken"] * 7
    assert held == 2  # the one group's two occurrences


async def test_a_group_and_bookings_racing_for_one_hour_leave_one_holder(
    pool: asyncpg.Pool, network: Network
) -> None:
    group_service = await network.service(kind="group_session", name="MOUD support group")
    video = await network.service(kind="video_session", name="Counseling")
    counselor = await network.consultant(
        [group_service, video],
        timezone="America/New_York",
        hours=((0, time(9), time(20)),),
        role="telehealth_counselor",
    )
    spoke = await network.spoke()
    patients = [await network.patient(spoke) for _ in range(4)]

    async def make() -> str:
        async with pool.acquire() as conn, conn.transaction():
            body = _body(group_service.id, counselor.id, "MOUD support group")
            try:
                await groups.create(conn, HUB, TRAIL, body, NOW)
            except Conflict:
                return "refused"
        return "group"

    async def book(patient_id: Any) -> str:
        new = bookings.NewBooking(video.id, counselor.id, patient_id, MONDAY_6PM)
        async with pool.acquire() as conn, conn.transaction():
            try:
                await bookings.book(
                    conn, spoke.id, TRAIL, new, now=NOW, video_url_template="https://v/{room}"
                )
            except Conflict:
                return "refused"
        return "booking"

    outcomes = await asyncio.gather(make(), *(book(p.id) for p in patients))

    assert sorted(outcomes).count("refused") == 4
    assert len([o for o in outcomes if o != "refused"]) == 1
