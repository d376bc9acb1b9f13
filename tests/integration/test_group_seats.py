"""Seats in a group on a real database: enrol all or none, a full group, withdraw from an
occurrence on, excuse one, the waitlist served first come first served exactly once, and the
clinic told (outbox, dashboard) about its own patient only."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import timedelta

import asyncpg
import pytest

from scheduling import group_seats
from scheduling.group_seats import Enrolment, GroupFull, Waiting
from scheduling.groups import Group
from spokes.store import Patient
from telehub.audit import Trail
from telehub.errors import Conflict, NotFound, ValidationFailed
from tests.factories import Network, SpokeUser
from tests.factories.groups import NOW, enrol, group, seats_held, spoke_caller


async def _counts(conn: asyncpg.Connection, group_id: uuid.UUID) -> tuple[int, int]:
    """(enrolments, seats) of the group."""
    return (
        await conn.fetchval("SELECT count(*) FROM group_enrolments WHERE group_id = $1", group_id),
        await conn.fetchval(
            "SELECT count(*) FROM group_seats s JOIN group_occurrences o "
            "ON o.id = s.occurrence_id WHERE o.group_id = $1",
            group_id,
        ),
    )


async def test_a_seat_in_every_occurrence_with_the_lowest_free_numbers(network: Network) -> None:
    made = await group(network, capacity=3, count=4)
    spoke = await network.spoke()
    first, second = await network.patient(spoke), await network.patient(spoke)

    a = await enrol(network, spoke, made.id, first.id)
    b = await enrol(network, spoke, made.id, second.id, from_=3)

    assert [(s.position, s.seat_no, s.attendance) for s in a.seats] == [
        (1, 1, "expected"),
        (2, 1, "expected"),
        (3, 1, "expected"),
        (4, 1, "expected"),
    ]
    assert (b.from_position, [(s.position, s.seat_no) for s in b.seats]) == (3, [(3, 2), (4, 2)])


async def test_all_or_none_a_later_full_occurrence_enrols_nothing(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=4)
    spoke = await network.spoke()
    p1, p2, p3 = [await network.patient(spoke) for _ in range(3)]
    await enrol(network, spoke, made.id, p1.id)
    await enrol(network, spoke, made.id, p2.id, from_=3)
    before = await _counts(conn, made.id)

    with pytest.raises(GroupFull) as refused:
        await enrol(network, spoke, made.id, p3.id)

    assert [f["position"] for f in refused.value.extra["full"]] == [3, 4]
    assert "3, 4" in refused.value.detail
    assert await _counts(conn, made.id) == before


async def test_a_full_group_refuses_the_next_patient_and_numbers_stay_within_capacity(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=2)
    spokes = [await network.spoke() for _ in range(3)]
    patients = [await network.patient(s) for s in spokes]
    for s, p in zip(spokes[:2], patients[:2], strict=True):
        await enrol(network, s, made.id, p.id)

    with pytest.raises(GroupFull) as refused:
        await enrol(network, spokes[2], made.id, patients[2].id)

    assert refused.value.status == 409 and refused.value.slug == "group-full"
    assert [f["position"] for f in refused.value.extra["full"]] == [1, 2]
    assert await seats_held(conn, made.id) == {1: [1, 2], 2: [1, 2]}


async def test_withdraw_from_an_occurrence_releases_that_one_and_later_keeps_earlier(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=4)
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    enrolled = await enrol(network, spoke, made.id, patient.id)
    caller = spoke_caller(spoke)

    async with conn.transaction():
        kept = await group_seats.withdraw(
            conn, caller, Trail(caller.actor), made.id, enrolled.id, 3, NOW
        )

    assert kept.withdrawn_from == 3
    assert [(s.position, s.attendance) for s in kept.seats] == [
        (1, "expected"),
        (2, "expected"),
        (3, "released"),
        (4, "released"),
    ]
    assert await seats_held(conn, made.id) == {1: [1], 2: [1]}
    with pytest.raises(Conflict):
        async with conn.transaction():
            await group_seats.withdraw(
                conn, caller, Trail(caller.actor), made.id, enrolled.id, 4, NOW
            )


async def test_withdraw_before_the_enrolment_or_from_a_past_occurrence_names_from(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=4)
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    enrolled = await enrol(network, spoke, made.id, patient.id, from_=2)
    caller = spoke_caller(spoke)

    for position, now in ((1, NOW), (2, NOW + timedelta(days=15))):
        with pytest.raises(ValidationFailed) as refused:
            async with conn.transaction():
                await group_seats.withdraw(
                    conn, caller, Trail(caller.actor), made.id, enrolled.id, position, now
                )
        assert [e.field for e in refused.value.errors] == ["from"]


async def test_excusing_one_occurrence_keeps_the_seat(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=3)
    spoke = await network.spoke()
    p1, p2, p3 = [await network.patient(spoke) for _ in range(3)]
    enrolled = await enrol(network, spoke, made.id, p1.id)
    await enrol(network, spoke, made.id, p2.id)
    caller = spoke_caller(spoke)

    async with conn.transaction():
        after = await group_seats.excuse(
            conn, caller, Trail(caller.actor), made.id, enrolled.id, 2, NOW
        )

    assert [(s.position, s.seat_no, s.attendance) for s in after.seats] == [
        (1, 1, "expected"),
        (2, 1, "excused"),
        (3, 1, "expected"),
    ]
    with pytest.raises(GroupFull):
        await enrol(network, spoke, made.id, p3.id, from_=2)


async def test_another_clinics_patient_is_not_found_and_an_unlicensed_state_names_patient_id(
    network: Network,
) -> None:
    made = await group(network, capacity=2, count=1, states=("VT",))
    spoke, other = await network.spoke(), await network.spoke()
    theirs = await network.patient(other)
    in_texas = await network.patient(spoke, state="TX")

    with pytest.raises(NotFound):
        await enrol(network, spoke, made.id, theirs.id)
    with pytest.raises(ValidationFailed) as refused:
        await enrol(network, spoke, made.id, in_texas.id)
    assert [e.field for e in refused.value.errors] == ["patient_id"]


@dataclass
class Waitlisted:
    """A full group of 2 seats (one clinic's two patients) and two other clinics' patients
    waiting, in that order."""

    group: Group
    seated_spoke: SpokeUser
    seated: list[Patient]
    enrolled: list[Enrolment]
    spokes: list[SpokeUser]
    waiting: list[Patient]
    places: list[Waiting]


async def full_with_waitlist(network: Network) -> Waitlisted:
    """The group, full, and its waitlist of two."""
    made = await group(network, capacity=2, count=4, title="MOUD support group · Tuesdays")
    seated_spoke = await network.spoke()
    seated = [await network.patient(seated_spoke) for _ in range(2)]
    enrolled = [await enrol(network, seated_spoke, made.id, p.id) for p in seated]
    spokes = [await network.spoke(), await network.spoke()]
    waiting = [await network.patient(s) for s in spokes]
    places = []
    async with network.pool.acquire() as conn:
        for s, p in zip(spokes, waiting, strict=True):
            caller = spoke_caller(s)
            async with conn.transaction():
                places.append(
                    await group_seats.wait(conn, caller, Trail(caller.actor), made.id, p.id, NOW)
                )
    return Waitlisted(made, seated_spoke, seated, enrolled, spokes, waiting, places)


async def test_a_freed_seat_goes_to_the_first_waiting_patient_once_and_only_their_clinic_is_told(
    conn: asyncpg.Connection, network: Network
) -> None:
    w = await full_with_waitlist(network)
    assert [p.place for p in w.places] == [1, 2]
    caller = spoke_caller(w.seated_spoke)

    async with conn.transaction():
        await group_seats.withdraw(
            conn, caller, Trail(caller.actor), w.group.id, w.enrolled[0].id, 2, NOW
        )

    rows = await conn.fetch(
        "SELECT patient_id, from_position FROM group_enrolments "
        "WHERE group_id = $1 AND withdrawn_from IS NULL",
        w.group.id,
    )
    first, second = w.waiting
    assert sorted((str(r["patient_id"]), r["from_position"]) for r in rows) == sorted(
        [(str(w.seated[1].id), 1), (str(first.id), 2)]
    )
    statuses = await conn.fetch(
        "SELECT patient_id, status FROM group_waitlist WHERE group_id = $1", w.group.id
    )
    assert {r["patient_id"]: r["status"] for r in statuses} == {
        first.id: "assigned",
        second.id: "waiting",
    }
    assert await seats_held(conn, w.group.id) == {1: [1, 2], 2: [1, 2], 3: [1, 2], 4: [1, 2]}
    outbox = await conn.fetch("SELECT spoke_id, event_type, payload FROM outbox")
    assert [(r["spoke_id"], r["event_type"]) for r in outbox] == [
        (w.spokes[0].id, "group.seat_assigned")
    ]
    payload = outbox[0]["payload"]
    payload = json.loads(payload) if isinstance(payload, str) else payload
    data = payload["data"]
    assert (data["patient_id"], data["from_position"]) == (str(first.id), 2)
    assert data["title"] == "MOUD support group · Tuesdays"
    text = json.dumps(payload)
    for other in (second, *w.seated):
        assert str(other.id) not in text
    for anyone in (first, second, *w.seated):
        assert anyone.given_name not in text and anyone.family_name not in text

    since = NOW - timedelta(hours=1)
    async with conn.transaction():
        mine = await group_seats.assigned_since(conn, spoke_caller(w.spokes[0]), Trail("t"), since)
        theirs = await group_seats.assigned_since(
            conn, spoke_caller(w.spokes[1]), Trail("t"), since
        )
    assert [(a.patient_id, a.from_position) for a in mine] == [(first.id, 2)]
    assert theirs == []


async def test_joining_the_waitlist_of_a_group_with_a_seat_open_is_refused(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=2, count=2)
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    caller = spoke_caller(spoke)

    with pytest.raises(Conflict) as refused:
        async with conn.transaction():
            await group_seats.wait(conn, caller, Trail(caller.actor), made.id, patient.id, NOW)

    assert "enrol" in refused.value.detail
    assert await conn.fetchval("SELECT count(*) FROM group_waitlist") == 0


async def test_a_patient_who_left_the_waitlist_is_passed_over(
    conn: asyncpg.Connection, network: Network
) -> None:
    w = await full_with_waitlist(network)
    left_caller = spoke_caller(w.spokes[0])
    async with conn.transaction():
        left = await group_seats.leave(
            conn, left_caller, Trail(left_caller.actor), w.group.id, w.places[0].id, NOW
        )
    assert (left.status, left.place) == ("left", None)

    caller = spoke_caller(w.seated_spoke)
    async with conn.transaction():
        await group_seats.withdraw(
            conn, caller, Trail(caller.actor), w.group.id, w.enrolled[1].id, 1, NOW
        )

    assert await conn.fetchval(
        "SELECT patient_id FROM group_waitlist WHERE status = 'assigned'"
    ) == (w.waiting[1].id)
    assert [r["spoke_id"] for r in await conn.fetch("SELECT spoke_id FROM outbox")] == [
        w.spokes[1].id
    ]
