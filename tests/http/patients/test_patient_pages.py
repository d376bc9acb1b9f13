"""The booking page's patient step finds patients by name, MRN or birth date without script,
and adding a patient the clinic may have already shows who, and asks."""

from __future__ import annotations

import html
import re

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.patients.support import added
from tests.http.spoke_support import Clinic, post


def _slot(clinic: Clinic) -> dict[str, str]:
    return {
        "service_id": str(clinic.video.id),
        "consultant_id": str(clinic.consultant.id),
        "start": "2027-03-08T18:00:00Z",
    }


def _links(page: str) -> list[tuple[str, str]]:
    """(href, text) of the links listed as matches or candidates."""
    listed = re.findall(r'<ul class="patient-matches">(.*?)</ul>', page, re.S)
    return [
        (html.unescape(href), re.sub(r"<[^>]+>", "", text).strip())
        for block in listed
        for href, text in re.findall(r'<a href="([^"]+)">(.*?)</a>', block, re.S)
    ]


async def test_a_plain_search_by_part_of_a_name_lists_the_matches_to_use(
    client: TestClient, clinic: Clinic, network: Network
) -> None:
    jose = await added(client, clinic.spoke, given_name="José", family_name="Núñez", mrn="N-1")
    other = await network.spoke()
    await added(client, other, given_name="Josefa", family_name="Elsewhere", mrn="N-2")

    response = await client.get("/spoke/book", params={**_slot(clinic), "q": "nunez"})

    assert response.status == 200
    page = await response.text()
    assert "1 patient matches <strong>nunez</strong>" in page
    [(href, text)] = _links(page)
    assert text == "Núñez, José"
    assert href.startswith("/spoke/book?") and f"patient_id={jose}" in href
    assert "service_id=" in href and "start=2027-03-08T18" in href
    chosen = await (await client.get(href)).text()
    assert 'id="chosen-patient"' in chosen and "Núñez, José" in chosen


async def test_a_birth_date_or_an_mrn_written_loosely_finds_the_patient(
    client: TestClient, clinic: Clinic
) -> None:
    await added(client, clinic.spoke, given_name="Jamie", family_name="Fictus", mrn="AB123")
    by_date = await (
        await client.get("/spoke/book", params={**_slot(clinic), "q": "1965-01-21"})
    ).text()
    assert [t for _, t in _links(by_date)] == ["Fictus, Jamie"]
    # An MRN typed in full is the patient: chosen at once.
    by_mrn = await (
        await client.get("/spoke/book", params={**_slot(clinic), "q": "ab-12 3"})
    ).text()
    assert 'id="chosen-patient"' in by_mrn and "Fictus, Jamie" in by_mrn


async def test_a_search_that_finds_no_one_says_so_in_the_words_of_what_was_typed(
    client: TestClient, clinic: Clinic
) -> None:
    for q, words in [
        ("Nobody", "No patient named <strong>Nobody</strong>"),
        ("1901-01-01", "No patient born on <strong>1901-01-01</strong>"),
        ("ZZ-404", "No patient with MRN <strong>ZZ-404</strong>"),
    ]:
        page = await (await client.get("/spoke/book", params={**_slot(clinic), "q": q})).text()
        assert words in page
        assert _links(page) == []


async def test_the_matches_alone_come_as_a_fragment_for_the_script(
    client: TestClient, clinic: Clinic
) -> None:
    await added(client, clinic.spoke, given_name="José", family_name="Núñez", mrn="N-1")
    response = await client.get("/spoke/book/patients", params={**_slot(clinic), "q": "JOSE"})
    assert response.status == 200
    assert response.content_type == "text/html"
    fragment = await response.text()
    assert "<html" not in fragment and "<form" not in fragment
    assert [t for _, t in _links(fragment)] == ["Núñez, José"]
    empty = await client.get("/spoke/book/patients", params=_slot(clinic))
    assert "<li" not in await empty.text()


async def test_a_match_without_a_slot_to_book_opens_the_patients_own_page(
    client: TestClient, clinic: Clinic
) -> None:
    jose = await added(client, clinic.spoke, given_name="José", family_name="Núñez", mrn="N-1")
    fragment = await (await client.get("/spoke/book/patients", params={"q": "núñez"})).text()
    assert _links(fragment) == [(f"/spoke/patients/{jose}", "Núñez, José")]


async def test_the_fragment_needs_a_signed_in_clinic(client: TestClient) -> None:
    response = await client.get("/spoke/book/patients", params={"q": "x"}, allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/signin")


async def test_adding_the_same_name_and_birth_date_asks_and_adds_only_when_told(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    first = await added(client, clinic.spoke, given_name="José", family_name="Núñez", mrn="N-1")
    form = {
        **_slot(clinic),
        "mrn": "N-2",
        "given_name": "Jose",
        "family_name": "Nunez",
        "birth_date": "1965-01-21",
        "state": "VT",
    }
    count = "SELECT count(*) FROM patients WHERE spoke_id = $1"

    asked = await post(client, "/spoke/patients", form, clinic.csrf)

    assert asked.status == 409
    page = await asked.text()
    assert "Is this the same person?" in page
    [(href, text)] = _links(page)
    assert text == "Use this patient: Núñez, José"
    assert f"patient_id={first}" in href and "start=2027-03-08T18" in href
    assert "No, add a new patient" in page
    assert '<input type="hidden" name="confirm_new" value="true">' in page
    assert await conn.fetchval(count, clinic.spoke.id) == 2  # the fixture's and the first

    confirmed = await post(client, "/spoke/patients", {**form, "confirm_new": "true"}, clinic.csrf)
    assert confirmed.status == 303
    assert await conn.fetchval(count, clinic.spoke.id) == 3


async def test_the_same_mrn_written_differently_is_the_same_patient_and_not_added(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = {
        "mrn": clinic.patient.mrn.lower().replace("-", " "),
        "given_name": "Other",
        "family_name": "Person",
        "birth_date": "1990-01-01",
        "state": "VT",
        "confirm_new": "true",
    }
    response = await post(client, "/spoke/patients", form, clinic.csrf)

    assert response.status == 409
    page = await response.text()
    assert "it is the same patient" in page
    assert "No, add a new patient" not in page
    [(href, _)] = _links(page)
    assert href == f"/spoke/patients/{clinic.patient.id}"  # the patient's own page
    assert await conn.fetchval("SELECT count(*) FROM patients") == 1


async def test_the_candidates_a_page_shows_are_an_audited_read(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = {
        "mrn": clinic.patient.mrn,
        "given_name": "Other",
        "family_name": "Person",
        "birth_date": "1990-01-01",
        "state": "VT",
    }
    await post(client, "/spoke/patients", form, clinic.csrf)
    reads = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'read' AND record_id = $1",
        str(clinic.patient.id),
    )
    assert reads == 1
