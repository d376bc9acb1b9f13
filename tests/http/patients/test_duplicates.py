"""POST /api/v1/patients refuses a patient the clinic may have already, naming the candidates."""

from __future__ import annotations

import asyncio

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.patients.support import add, added
from tests.http.problems import problem_of


async def test_the_same_names_and_birth_date_are_refused_with_the_candidate(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    first = await added(client, spoke, given_name="José", family_name="Núñez", mrn="AB123")

    again = await add(client, spoke, given_name="jose", family_name="NUNEZ", mrn="ZZ-9")

    problem = await problem_of(again, 409)
    assert problem["type"] == "/problems/possible-duplicate"
    assert problem["confirmable"] is True
    assert problem["candidates"] == [
        {
            "id": first,
            "given_name": "José",
            "family_name": "Núñez",
            "birth_date": "1965-01-21",
            "mrn": "AB123",
            "same_mrn": False,
        }
    ]
    assert await conn.fetchval("SELECT count(*) FROM patients") == 1


async def test_given_and_family_swapped_are_the_same_names(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    await added(client, spoke, given_name="Jamie", family_name="Fictus")
    swapped = await add(client, spoke, given_name="Fictus", family_name="Jamie", mrn="Q-1")
    assert (await problem_of(swapped, 409))["type"] == "/problems/possible-duplicate"


async def test_confirm_new_adds_someone_else_with_the_same_names_and_birth_date(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await added(client, spoke)
    confirmed = await add(client, spoke, mrn="ZZ-9", confirm_new=True)
    assert confirmed.status == 201, await confirmed.text()
    assert await conn.fetchval("SELECT count(*) FROM patients") == 2


async def test_the_same_mrn_however_written_is_the_same_patient_even_when_confirmed(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    first = await added(client, spoke, mrn="AB123")

    for body in (
        {"mrn": "ab-12 3", "given_name": "Someone", "family_name": "Else"},
        {"mrn": "AB 123", "given_name": "Someone", "family_name": "Else", "confirm_new": True},
    ):
        problem = await problem_of(await add(client, spoke, **body), 409)
        assert problem["type"] == "/problems/possible-duplicate"
        assert problem["confirmable"] is False
        assert [(c["id"], c["same_mrn"]) for c in problem["candidates"]] == [(first, True)]
    assert await conn.fetchval("SELECT count(*) FROM patients") == 1


async def test_another_clinics_patient_is_never_a_candidate(
    client: TestClient, network: Network
) -> None:
    ours, theirs = await network.spoke(), await network.spoke()
    await added(client, theirs)
    assert (await add(client, ours)).status == 201


async def test_the_candidates_shown_are_an_audited_read(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    first = await added(client, spoke)
    await add(client, spoke, mrn="ZZ-9")
    reads = await conn.fetch(
        "SELECT action FROM audit_log WHERE record_type = 'patient' AND record_id = $1",
        first,
    )
    assert sorted(r["action"] for r in reads) == ["create", "read"]


async def test_two_creates_racing_for_one_mrn_add_one_patient(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    # Two requests at once on two pooled connections; different names, one MRN.
    answers = await asyncio.gather(
        add(client, spoke, mrn="RACE-1", given_name="Ann", family_name="One"),
        add(client, spoke, mrn="race 1", given_name="Bo", family_name="Two", confirm_new=True),
    )
    assert sorted(a.status for a in answers) == [201, 409]
    refused = next(a for a in answers if a.status == 409)
    assert (await refused.json())["type"] == "/problems/possible-duplicate"
    assert await conn.fetchval("SELECT count(*) FROM patients") == 1
