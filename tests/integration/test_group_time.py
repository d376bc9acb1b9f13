"""A group's occurrences hold the counselor's time: not made over a booking or another group,
no 1:1 booking lands on them, never offered as a 1:1 slot, freed when cancelled."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any

import asyncpg
import pytest

from hub.store import Consultant
from scheduling import bookings, groups, store
from scheduling.groups_schemas import GroupIn
from scheduling.slots import Period, open_slots
from scheduling.store import Service
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import Forbidden, SlotTaken, ValidationFailed
from telehub.validation import validate
from tests.factories import Network, SpokeUser
from tests.factories.groups import HUB, NOW, enrol, spoke_caller
from tests.factories.groups import group as new_group

MONDAY_6PM = datetime(2027, 3, 8, 23, 0, tzinfo=UTC)  # 18:00 in New York
SECOND = datetime(2027, 3, 15, 22, 0, tzinfo=UTC)  # 18:00 in New York, now on daylight time
TRAIL = Trail("test")


class Scene:
    """A counselor offering a group service and a 1:1 video service, Mondays 09-20 New York."""

    def __init__(
        self, group: Service, video: Service, counselor: Consultant, spoke: SpokeUser, patient: Any
    ) -> None:
        self.group, self.video, self.counselor = group, video, counselor
        self.spoke, self.patient = spoke, patient


async def _scene(network: Network) -> Scene:
    group_service = await network.service(kind="group_session", name="MOUD support group")
    video = await network.service(kind="video_session", name="Counseling")
    counselor = await network.consultant(
        [group_service, video],
        timezone="America/New_York",
        hours=((0, time(9), time(20)),),
        role="telehealth_counselor",
    )
    spoke = await network.spoke()
    return Scene(group_service, video, counselor, spoke, await network.patient(spoke))


def _body(s: Scene, **over: Any) -> GroupIn:
    values: dict[str, Any] = {
        "service_id": s.group.id,
        "consultant_id": s.counselor.id,
        "title": "MOUD support group",
        "capacity": 8,
        "first_start": MONDAY_6PM.isoformat(),
        "repeat": "weekly",
        "count": 3,
    }
    values.update(over)
    return validate(GroupIn, values)


async def _book(conn: asyncpg.Connection, s: Scene, start: datetime) -> bookings.Booking:
    new = bookings.NewBooking(s.video.id, s.counselor.id, s.patient.id, start)
    async with conn.transaction():
        return await bookings.book(
            conn, s.spoke.id, TRAIL, new, now=NOW, video_url_template="https://v.invalid/{room}"
        )


async def _offered(conn: asyncpg.Connection, s: Scene, day: datetime) -> list[datetime]:
    window = Period(day - timedelta(hours=12), day + timedelta(hours=12))
    calendars = await store.load_calendars(
        conn, s.video, window, consultant_id=s.counselor.id, now=NOW
    )
    return [x.start for x in open_slots(calendars, s.video.terms, window, NOW, "VT")]


async def test_a_group_is_not_made_over_a_booking_and_names_the_occurrences(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    await _book(conn, s, SECOND)  # the second occurrence's time

    with pytest.raises(groups.GroupTimeTaken) as refused:
        async with conn.transaction():
            await groups.create(conn, HUB, TRAIL, _body(s), NOW)

    taken = refused.value.extra["taken"]
    assert [(t["position"], t["held_by"]) for t in taken] == [(2, "booking")]
    assert await conn.fetchval("SELECT count(*) FROM groups") == 0


async def test_a_group_is_not_made_over_another_group(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    async with conn.transaction():
        await groups.create(conn, HUB, TRAIL, _body(s, count=1, repeat="once"), NOW)

    with pytest.raises(groups.GroupTimeTaken) as refused:
        async with conn.transaction():
            await groups.create(conn, HUB, TRAIL, _body(s, title="Another"), NOW)

    assert [(t["position"], t["held_by"]) for t in refused.value.extra["taken"]] == [(1, "group")]


async def test_no_booking_lands_on_a_group_and_its_time_is_not_offered(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    before = await _offered(conn, s, MONDAY_6PM)
    async with conn.transaction():
        await groups.create(conn, HUB, TRAIL, _body(s), NOW)

    after = await _offered(conn, s, MONDAY_6PM)
    with pytest.raises(SlotTaken):
        await _book(conn, s, MONDAY_6PM)

    assert MONDAY_6PM in before
    assert MONDAY_6PM not in after
    assert set(before) - set(after) == {MONDAY_6PM}  # the hour before and after stay open


async def test_cancelling_from_an_occurrence_frees_that_time_and_later_and_keeps_earlier(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    async with conn.transaction():
        made = await groups.create(conn, HUB, TRAIL, _body(s), NOW)
    enrolled = await enrol(network, s.spoke, made.id, s.patient.id)

    async with conn.transaction():
        kept = await groups.cancel_from(conn, HUB, TRAIL, made.id, 2, "Counselor leaves", NOW)
    second = SECOND

    assert [o.status for o in kept.occurrences] == ["scheduled", "cancelled", "cancelled"]
    assert [o.seats_taken for o in kept.occurrences] == [1, 0, 0]
    assert enrolled.seats  # the patient had a seat in each
    assert MONDAY_6PM not in await _offered(conn, s, MONDAY_6PM)
    assert second in await _offered(conn, s, second)
    assert (await _book(conn, s, second)).start == second


async def test_a_group_session_service_is_never_booked_one_to_one(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    new = bookings.NewBooking(s.group.id, s.counselor.id, s.patient.id, MONDAY_6PM)

    with pytest.raises(ValidationFailed) as refused:
        await bookings.book(conn, s.spoke.id, TRAIL, new, now=NOW, video_url_template="{room}")

    assert [e.field for e in refused.value.errors] == ["service_id"]


async def test_only_the_hub_or_the_counselor_themself_makes_a_group(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    other = Caller(
        "consultant", "c-x", KIND_SCOPES["consultant"], consultant_id=s.counselor.id + 99
    )
    own = Caller("consultant", "c-own", KIND_SCOPES["consultant"], consultant_id=s.counselor.id)

    for refused in (spoke_caller(s.spoke), other):
        with pytest.raises(Forbidden):
            await groups.create(conn, refused, TRAIL, _body(s), NOW)
    async with conn.transaction():
        made = await groups.create(conn, own, TRAIL, _body(s), NOW)

    assert made.consultant_id == s.counselor.id


async def test_occurrences_keep_the_counselors_wall_clock_time_across_daylight_saving(
    conn: asyncpg.Connection, network: Network
) -> None:
    s = await _scene(network)
    async with conn.transaction():
        made = await groups.create(conn, HUB, TRAIL, _body(s, count=3), NOW)

    # New York moves to daylight time on Sunday 14 March 2027: 18:00 is then 22:00 UTC.
    assert [o.start.astimezone(UTC).hour for o in made.occurrences] == [23, 22, 22]
    assert made.zone == "America/New_York"
    assert [o.end - o.start for o in made.occurrences] == [timedelta(hours=1)] * 3


async def test_find_open_needs_a_free_seat_a_licensed_counselor_and_a_time_to_come(
    conn: asyncpg.Connection, network: Network
) -> None:
    roomy = await new_group(network, capacity=2, count=1)
    full = await new_group(network, capacity=2, count=1)
    unlicensed = await new_group(network, count=1, states=("NY",))
    spoke = await network.spoke()
    for _ in range(2):
        await enrol(network, spoke, full.id, (await network.patient(spoke)).id)
    caller = spoke_caller(spoke)
    window = (NOW, NOW + timedelta(days=30))

    def ids(found: list[groups.Group]) -> set[uuid.UUID]:
        return {g.id for g in found}

    found = {
        g.id: await groups.find_open(conn, caller, TRAIL, g.service_id, *window, "VT")
        for g in (roomy, full, unlicensed)
    }
    later = await groups.find_open(
        conn, caller, TRAIL, roomy.service_id, *window, "VT", now=NOW + timedelta(days=8)
    )

    assert ids(found[roomy.id]) == {roomy.id}
    assert ids(found[full.id]) == set()
    assert ids(found[unlicensed.id]) == set()
    assert later == []  # its one occurrence has begun
