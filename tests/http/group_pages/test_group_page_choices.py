"""Choosing the patient on a group's page, and what the group pages refuse: an MRN finds the
clinic's own patient only, a patient the counselor may not see is refused naming the patient,
a date that is not one is named, and nothing is written on a refusal."""

from __future__ import annotations

import uuid
from html import unescape

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.http.group_pages.support import enrol, scene
from tests.http.spoke_support import post


async def test_an_mrn_chooses_the_clinics_own_patient_to_enrol(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock)

    shown = unescape(
        await (await client.get(f"/spoke/groups/{s.group.id}?mrn={s.patient.mrn}")).text()
    )

    enrol = shown.split('id="h-enrol"')[1]
    assert "Quimby" in enrol and f'name="patient_id" value="{s.patient.id}"' in enrol


async def test_another_clinics_mrn_finds_no_one(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock)

    response = await client.get(f"/spoke/groups/{s.group.id}?mrn={s.outsider.mrn}")

    assert response.status == 422
    shown = unescape(await response.text())
    assert "MRN: no patient of yours has this MRN" in shown
    assert "Outsiderson" not in shown and str(s.outsider.id) not in shown


async def test_a_patient_outside_the_counselors_states_is_refused_naming_the_patient(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock)
    texan = await network.patient(s.mine, state="TX", family_name="Lonestar")

    response = await post(
        client, f"/spoke/groups/{s.group.id}/seats", {"patient_id": str(texan.id)}, s.csrf
    )

    assert response.status == 422
    assert "Patient:" in unescape(await response.text())
    assert await conn.fetchval("SELECT count(*) FROM group_enrolments") == 0


async def test_a_day_that_is_not_a_date_is_named(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock)

    response = await client.get(f"/spoke/groups?patient_id={s.patient.id}&from_date=soon")

    assert response.status == 422
    assert "From: enter a date" in unescape(await response.text())


async def test_a_group_that_is_not_there_is_not_found(
    client: TestClient, network: Network, clock: Clock
) -> None:
    await scene(client, network, clock)

    assert (await client.get(f"/spoke/groups/{uuid.uuid4()}")).status == 404


async def test_withdrawing_another_clinics_enrolment_is_not_found_and_changes_nothing(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    s = await scene(client, network, clock)
    theirs = await enrol(network, clock, s.theirs, s.outsider, s.group)

    response = await post(
        client,
        f"/spoke/groups/{s.group.id}/seats/{theirs}/withdraw",
        {"from": "1", "confirmed": "yes"},
        s.csrf,
    )

    assert response.status == 404
    assert (
        await conn.fetchval("SELECT withdrawn_from FROM group_enrolments WHERE id = $1", theirs)
        is None
    )


async def test_a_last_day_before_the_first_is_named(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock)

    response = await client.get(
        f"/spoke/groups?patient_id={s.patient.id}&from_date=2027-03-10&to_date=2027-03-09"
    )

    assert response.status == 422
    assert "To: must be on or after the first day" in unescape(await response.text())


async def test_the_days_chosen_bound_the_sessions_searched(
    client: TestClient, network: Network, clock: Clock
) -> None:
    s = await scene(client, network, clock, count=2)  # Tuesdays 2 and 9 March, 18:00 New York

    async def found(days: str) -> str:
        page = await (await client.get(f"/spoke/groups?patient_id={s.patient.id}&{days}")).text()
        return unescape(page).split('id="h-found"')[1]

    assert "MOUD support group" in await found("from_date=2027-03-09&to_date=2027-03-09")
    assert "MOUD support group" not in await found("from_date=2027-03-10")
    assert "MOUD support group" not in await found("from_date=2027-03-03&to_date=2027-03-08")
