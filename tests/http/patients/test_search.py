"""GET /api/v1/patients?q=: a clinic finds its own patients by name, MRN or birth date."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, SpokeUser
from tests.http.patients.support import added, found
from tests.http.problems import problem_of


@pytest.fixture
async def clinic(client: TestClient, network: Network) -> SpokeUser:
    """A clinic with four patients whose names, MRNs and birth dates overlap in parts."""
    spoke = await network.spoke()
    await added(client, spoke, given_name="José", family_name="Álvarez", mrn="AB123")
    await added(client, spoke, given_name="Jamie", family_name="Fictus", mrn="C-9")
    await added(
        client, spoke, given_name="Ana", family_name="Josephs", mrn="D-10", birth_date="1970-05-05"
    )
    await added(
        client,
        spoke,
        given_name="Maria",
        family_name="Sanjosé",
        mrn="E-11",
        birth_date="1990-02-02",
    )
    return spoke


async def test_a_name_is_found_without_its_accents_or_case(
    client: TestClient, clinic: SpokeUser
) -> None:
    assert await found(client, clinic, q="jose") == [
        "Álvarez, José",  # the given name starts with it
        "Josephs, Ana",  # the family name starts with it
        "Sanjosé, Maria",  # the family name holds it
    ]
    assert await found(client, clinic, q="ÁLVAREZ") == ["Álvarez, José"]
    assert await found(client, clinic, q="jose alv") == ["Álvarez, José"]
    assert await found(client, clinic, q="Alvarez, Jose") == ["Álvarez, José"]


async def test_an_mrn_is_found_whatever_its_case_spaces_and_dashes(
    client: TestClient, clinic: SpokeUser
) -> None:
    assert await found(client, clinic, q="ab-12 3") == ["Álvarez, José"]
    assert await found(client, clinic, q="c9") == ["Fictus, Jamie"]


async def test_a_birth_date_finds_everyone_born_that_day_by_name(
    client: TestClient, clinic: SpokeUser
) -> None:
    assert await found(client, clinic, q="1965-01-21") == ["Álvarez, José", "Fictus, Jamie"]


async def test_an_exact_mrn_comes_before_a_name_that_holds_the_text(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    await added(client, spoke, given_name="Kim", family_name="Abbot", mrn="X-1")
    await added(client, spoke, given_name="Lee", family_name="Zed", mrn="ABBOT")
    assert await found(client, spoke, q="abbot") == ["Zed, Lee", "Abbot, Kim"]


async def test_another_clinics_patients_are_never_found(
    client: TestClient, network: Network, clinic: SpokeUser, conn: asyncpg.Connection
) -> None:
    other = await network.spoke()
    reads_before = await conn.fetchval("SELECT count(*) FROM audit_log")

    for q in ("jose", "ab123", "1965-01-21", "Fictus"):
        assert await found(client, other, q=q) == []
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == reads_before


async def test_every_patient_found_is_an_audited_read(
    client: TestClient, clinic: SpokeUser, conn: asyncpg.Connection
) -> None:
    await found(client, clinic, q="jose")
    read = await conn.fetch(
        """
        SELECT p.family_name FROM audit_log a JOIN patients p ON p.id::text = a.record_id
        WHERE a.action = 'read' AND a.record_type = 'patient' ORDER BY p.family_name
        """
    )
    assert [r["family_name"] for r in read] == ["Josephs", "Sanjosé", "Álvarez"]


async def test_pages_follow_next_cursor_without_repeating_anyone(
    client: TestClient, clinic: SpokeUser
) -> None:
    pages, cursor = [], None
    while True:
        params = {"q": "a", "limit": "1"} | ({"cursor": cursor} if cursor else {})
        response = await client.get("/api/v1/patients", params=params, headers=clinic.headers)
        body = await response.json()
        pages.append([p["family_name"] for p in body["patients"]])
        cursor = body["next_cursor"]
        if cursor is None:
            break
    # Every name holds an "a": names starting with it first, one a page, then no more.
    assert pages == [["Álvarez"], ["Josephs"], ["Fictus"], ["Sanjosé"]]


async def test_the_exact_mrn_query_still_finds_exactly_that_mrn(
    client: TestClient, clinic: SpokeUser
) -> None:
    assert await found(client, clinic, mrn="AB123") == ["Álvarez, José"]
    assert await found(client, clinic, mrn="ab123") == []


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"q": ""}, "q"),
        ({"q": "   "}, "q"),
        ({"q": "x" * 101}, "q"),
        ({"q": "1965-02-30"}, "q"),
        ({"q": "jose", "mrn": "AB123"}, "q"),
        ({"q": "jose", "limit": "0"}, "limit"),
        ({"q": "jose", "limit": "201"}, "limit"),
        ({"q": "jose", "limit": "many"}, "limit"),
        ({"q": "jose", "cursor": "not-ours"}, "cursor"),
    ],
)
async def test_a_bad_query_is_refused_naming_the_field(
    client: TestClient, clinic: SpokeUser, params: dict[str, str], field: str
) -> None:
    response = await client.get("/api/v1/patients", params=params, headers=clinic.headers)
    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == [field]


async def test_without_q_every_patient_is_listed_by_name_a_page_at_a_time(
    client: TestClient, clinic: SpokeUser
) -> None:
    first = await client.get("/api/v1/patients", params={"limit": "3"}, headers=clinic.headers)
    body = await first.json()
    assert [p["family_name"] for p in body["patients"]] == ["Álvarez", "Fictus", "Josephs"]
    rest = await client.get(
        "/api/v1/patients",
        params={"limit": "3", "cursor": body["next_cursor"]},
        headers=clinic.headers,
    )
    last = await rest.json()
    assert [p["family_name"] for p in last["patients"]] == ["Sanjosé"]
    assert last["next_cursor"] is None
