"""Reading groups: a clinic is given only its own patients' seats (get and find alike), the hub
every seat, and every seat read is audited under the clinic whose patient holds it."""

from __future__ import annotations

import uuid
from datetime import timedelta

import asyncpg

from scheduling import groups
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.factories import Network
from tests.factories.groups import HUB, NOW, enrol, group, spoke_caller


async def _audited(conn: asyncpg.Connection, actor: str) -> list[tuple[str, int | None]]:
    rows = await conn.fetch(
        "SELECT record_id, spoke_id FROM audit_log"
        " WHERE actor = $1 AND action = 'read' AND record_type = 'group_seat'"
        " ORDER BY spoke_id, record_id",
        actor,
    )
    return [(r["record_id"], r["spoke_id"]) for r in rows]


async def test_a_clinic_reads_only_its_own_seats_and_those_reads_are_audited_as_its_own(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=6, count=2)
    mine, theirs = await network.spoke(), await network.spoke()
    my_patient = await network.patient(mine)
    their_patient = await network.patient(theirs)
    await enrol(network, mine, made.id, my_patient.id)
    await enrol(network, theirs, made.id, their_patient.id)
    me = spoke_caller(mine)

    got = await groups.get(conn, me, Trail("clinic-reader"), made.id)
    found = await groups.find_open(
        conn,
        me,
        Trail("clinic-finder"),
        made.service_id,
        NOW,
        NOW + timedelta(days=30),
        "VT",
    )
    hub = await groups.get(conn, HUB, Trail("hub-reader"), made.id)

    for seen in (got, found[0]):
        assert [o.seats_taken for o in seen.occurrences] == [2, 2]
        assert {s.patient_id for o in seen.occurrences for s in o.seats} == {my_patient.id}
    assert {s.patient_id for o in hub.occurrences for s in o.seats} == {
        my_patient.id,
        their_patient.id,
    }
    my_seats = sorted(str(s.id) for o in got.occurrences for s in o.seats)
    assert await _audited(conn, "clinic-reader") == [(s, mine.id) for s in my_seats]
    hub_audit = await _audited(conn, "hub-reader")
    assert len(hub_audit) == 4
    assert {spoke for _, spoke in hub_audit} == {mine.id, theirs.id}


async def test_occurrence_answers_one_position_with_its_count_and_no_seats(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=3, count=2)
    clinic = await network.spoke()
    await enrol(network, clinic, made.id, (await network.patient(clinic)).id)

    second = await groups.occurrence(conn, made.id, 2)
    missing = await groups.occurrence(conn, made.id, 3)
    elsewhere = await groups.occurrence(conn, uuid.uuid4(), 1)

    assert second is not None
    assert (second.position, second.seats_taken, second.capacity, second.seats) == (2, 1, 3, ())
    assert second.seats_open == 2
    assert missing is None and elsewhere is None


async def test_another_counselor_finding_a_group_sees_its_counts_and_no_seats(
    conn: asyncpg.Connection, network: Network
) -> None:
    made = await group(network, capacity=6, count=1)
    clinic = await network.spoke()
    await enrol(network, clinic, made.id, (await network.patient(clinic)).id)
    other = Caller("consultant", "c-other", KIND_SCOPES["consultant"], consultant_id=10**6)
    own = Caller("consultant", "c-own", KIND_SCOPES["consultant"], consultant_id=made.consultant_id)
    window = (NOW, NOW + timedelta(days=30))

    theirs = await groups.find_open(conn, other, Trail("x"), made.service_id, *window, "VT")
    mine = await groups.find_open(conn, own, Trail("y"), made.service_id, *window, "VT")

    assert [(o.seats_taken, o.seats) for o in theirs[0].occurrences] == [(1, ())]
    assert [len(o.seats) for o in mine[0].occurrences] == [1]
