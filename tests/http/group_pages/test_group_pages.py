"""The clinic's group pages: find a group with an open seat, enrol, a full group offers its
waitlist, withdrawing asks first, excusing keeps the seat, and a clinic sees its OWN patients
only (seat counts for the rest)."""

from __future__ import annotations

from datetime import timedelta
from html import unescape

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.http.group_pages.support import enrol, make_group, scene, seats_held
from tests.http.spoke_support import post


def _page(group_id: object) -> str:
    return f"/spoke/groups/{group_id}"


async def test_the_menu_leads_to_groups_and_finds_one_with_open_seats(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock, capacity=3)
    await enrol(network, clock, s.theirs, s.outsider, s.group)
    home = await (await client.get("/spoke")).text()
    assert '<a href="/spoke/groups"' in home and ">Groups<" in home

    found = unescape(await (await client.get(f"/spoke/groups?patient_id={s.patient.id}")).text())

    assert "MOUD support group · Tuesdays 18:00" in found
    assert "2 of 3 seats open" in found
    assert f"/spoke/groups/{s.group.id}?patient_id={s.patient.id}" in found


async def test_a_group_whose_counselor_is_not_licensed_in_the_patients_state_is_not_found(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock)
    texas = await network.patient(s.mine, state="TX", family_name="Lonestar")

    found = await (await client.get(f"/spoke/groups?patient_id={texas.id}")).text()

    assert "MOUD support group" not in found.split('id="h-found"')[1]
    assert "No group has an open seat" in found


async def test_a_state_not_in_the_list_is_refused_naming_it(
    client: TestClient, network: Network, clock: Clock
) -> None:
    await scene(client, network, clock)

    response = await client.get("/spoke/groups?patient_state=ZZ")

    assert response.status == 422
    assert "Patient&#39;s state: choose a state from the list" in await response.text()


async def test_enrol_seats_the_patient_in_every_session_to_come(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock, capacity=3, count=3)

    response = await post(
        client, f"{_page(s.group.id)}/seats", {"patient_id": str(s.patient.id)}, s.csrf
    )

    assert response.status == 303
    assert await seats_held(conn, s.patient) == [(1, "expected"), (2, "expected"), (3, "expected")]
    shown = unescape(await (await client.get(response.headers["Location"])).text())
    assert "Enrolled." in shown
    assert "Quimby" in shown.split('id="h-yours"')[1]
    assert shown.count("1 of 3 seats taken") == 3


async def test_a_clinic_sees_seat_counts_and_its_own_patients_only(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock, capacity=3)
    await enrol(network, clock, s.mine, s.patient, s.group)
    await enrol(network, clock, s.theirs, s.outsider, s.group)

    shown = unescape(await (await client.get(_page(s.group.id))).text())

    assert "2 of 3 seats taken" in shown
    assert "Quimby" in shown and s.patient.mrn in shown
    for secret in (
        str(s.outsider.id),
        s.outsider.mrn,
        s.outsider.family_name,
        s.outsider.given_name,
    ):
        assert secret not in shown


async def test_a_full_group_offers_its_waitlist_and_enrolling_is_refused_with_nothing_written(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock, capacity=2)
    for n in range(2):
        other = await network.patient(s.theirs, family_name=f"Other{n}")
        await enrol(network, clock, s.theirs, other, s.group)

    shown = unescape(
        await (await client.get(f"{_page(s.group.id)}?patient_id={s.patient.id}")).text()
    )
    assert "Join the waitlist" in shown and "Put on the waitlist" in shown
    assert f'action="{_page(s.group.id)}/seats"' not in shown

    refused = await post(
        client, f"{_page(s.group.id)}/seats", {"patient_id": str(s.patient.id)}, s.csrf
    )
    assert refused.status == 409
    assert "Not enrolled" in unescape(await refused.text())
    assert await seats_held(conn, s.patient) == []

    waits = await post(
        client, f"{_page(s.group.id)}/waitlist", {"patient_id": str(s.patient.id)}, s.csrf
    )
    assert waits.status == 303
    shown = unescape(await (await client.get(waits.headers["Location"])).text())
    assert "Quimby" in shown.split('id="h-waiting"')[1]
    assert "Leave the waitlist" in shown


async def test_leaving_the_waitlist_takes_the_patient_off_it(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock, capacity=2)
    for n in range(2):
        other = await network.patient(s.theirs, family_name=f"Other{n}")
        await enrol(network, clock, s.theirs, other, s.group)
    await post(client, f"{_page(s.group.id)}/waitlist", {"patient_id": str(s.patient.id)}, s.csrf)
    entry = await conn.fetchval("SELECT id FROM group_waitlist WHERE patient_id = $1", s.patient.id)

    response = await post(client, f"{_page(s.group.id)}/waitlist/{entry}/leave", {}, s.csrf)

    assert response.status == 303
    assert await conn.fetchval("SELECT status FROM group_waitlist WHERE id = $1", entry) == "left"
    assert 'id="h-waiting"' not in await (await client.get(_page(s.group.id))).text()


async def test_withdrawing_asks_first_and_changes_nothing_until_confirmed(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock, capacity=3, count=3)
    enrolment = await enrol(network, clock, s.mine, s.patient, s.group)
    action = f"{_page(s.group.id)}/seats/{enrolment}/withdraw"

    asked = await post(client, action, {"from": "2"}, s.csrf)

    assert asked.status == 200
    question = unescape(await asked.text())
    assert "This frees their seat from session 2 on" in question
    assert 'name="confirmed" value="yes"' in question
    assert [a for _, a in await seats_held(conn, s.patient)] == ["expected"] * 3

    done = await post(client, action, {"from": "2", "confirmed": "yes"}, s.csrf)

    assert done.status == 303
    assert await seats_held(conn, s.patient) == [(1, "expected"), (2, "released"), (3, "released")]
    shown = unescape(await (await client.get(_page(s.group.id))).text())
    assert "withdrawn from session 2" in shown


async def test_excusing_one_session_keeps_the_seat(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock, capacity=3, count=3)
    enrolment = await enrol(network, clock, s.mine, s.patient, s.group)

    response = await post(
        client, f"{_page(s.group.id)}/seats/{enrolment}/excuse", {"position": "2"}, s.csrf
    )

    assert response.status == 303
    assert await seats_held(conn, s.patient) == [(1, "expected"), (2, "excused"), (3, "expected")]
    shown = await (await client.get(_page(s.group.id))).text()
    assert "Excused from session 2" in shown
    excuse = shown.split('name="position"')[1].split("</select>")[0]
    assert '<option value="2">' not in excuse and '<option value="3">' in excuse


async def test_a_bad_patient_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock)

    response = await post(client, f"{_page(s.group.id)}/seats", {"patient_id": "nobody"}, s.csrf)

    assert response.status == 422
    assert "Patient:" in unescape(await response.text())
    assert await conn.fetchval("SELECT count(*) FROM group_enrolments") == 0


async def test_the_patient_page_lists_their_groups_and_finds_one(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock, capacity=3)
    await enrol(network, clock, s.mine, s.patient, s.group)
    other = await make_group(
        network,
        clock,
        s.service,
        s.counselor,
        capacity=2,
        count=2,
        title="Relapse prevention",
        first=s.group.first_start + timedelta(hours=2),
    )
    for n in range(2):
        them = await network.patient(s.theirs, family_name=f"Other{n}")
        await enrol(network, clock, s.theirs, them, other)
    await post(client, f"{_page(other.id)}/waitlist", {"patient_id": str(s.patient.id)}, s.csrf)

    shown = unescape(await (await client.get(f"/spoke/patients/{s.patient.id}")).text())

    groups = shown.split('id="groups"')[1].split('id="econsults"')[0]
    assert "MOUD support group · Tuesdays 18:00" in groups and "from session 1" in groups
    assert "Relapse prevention" in groups and "on the waitlist" in groups
    assert f"/spoke/groups?patient_id={s.patient.id}" in groups
