"""The clinic's note pages under 42 CFR part 2: a held note's text appears on no page, the
dashboard counts it, and a disclosed note carries the notice and its consent's scope; each
showing of a body (page, print) is one row of the accounting, listed on the disclosures page."""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from consults.part2 import NOTICE
from spokes.store import Patient
from tests.factories import Network, econsult, signed_note
from tests.http.spoke_support import NOTE, Clinic

ASSESSMENT = NOTE["assessment"]


async def note_for(
    client: TestClient, network: Network, c: Clinic, patient: Patient
) -> dict[str, Any]:
    """The hub's signed answer to an e-consult about `patient`, with NOTE's sections."""
    asked = await econsult(client, c.spoke, patient_id=patient.id, service_id=c.econsult.id)
    return await signed_note(client, network.consultant_headers(c.consultant.id), asked["id"], NOTE)


async def disclosed(conn: asyncpg.Connection, note_id: object) -> list[str]:
    """The channels the note was disclosed through, oldest first."""
    rows = await conn.fetch(
        "SELECT channel FROM disclosures WHERE note_id = $1 ORDER BY id", note_id
    )
    return [r["channel"] for r in rows]


async def test_a_held_note_shows_no_text_on_any_page_and_the_dashboard_counts_it(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    patient = await network.patient(clinic.spoke, family_name="Ashdown", consent=None)
    note = await note_for(client, network, clinic, patient)

    pages = {
        path: await client.get(path)
        for path in (
            f"/spoke/notes/{note['id']}",
            f"/spoke/notes/{note['id']}/print",
            "/spoke/inbox",
            f"/spoke/patients/{patient.id}",
            "/spoke",
        )
    }

    for path, response in pages.items():
        assert response.status == 200, path
        text = await response.text()
        assert ASSESSMENT not in text, path
        assert "Low-dose buprenorphine" not in text, path
    note_page = await pages[f"/spoke/notes/{note['id']}"].text()
    assert "This note is waiting for the patient's consent." in note_page
    assert "Missing: no consent for treatment, payment and operations in force" in note_page
    assert f"/spoke/patients/{patient.id}/consents/new" in note_page
    assert "Acknowledge</button>" not in note_page
    inbox = await pages["/spoke/inbox"].text()
    assert 'Waiting for the patient\'s consent <span class="count">(1)</span>' in inbox
    dashboard = await pages["/spoke"].text()
    assert "1 note is waiting for patients' consent." in dashboard
    assert f"/spoke/patients/{patient.id}#consent" in dashboard
    record = await pages[f"/spoke/patients/{patient.id}"].text()
    assert "1 note is waiting for the patient's consent." in record
    assert await disclosed(conn, note["id"]) == []


async def test_the_dashboard_banner_counts_every_held_note_and_not_as_to_acknowledge(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    for name in ("Ashdown", "Brill"):
        patient = await network.patient(clinic.spoke, family_name=name, consent=None)
        await note_for(client, network, clinic, patient)

    dashboard = await (await client.get("/spoke")).text()

    assert "2 notes are waiting for patients' consent." in dashboard
    assert '<span class="big">0</span> consult notes to acknowledge' in dashboard


async def test_the_note_page_carries_the_notice_and_scope_and_is_accounted_once(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    note = await note_for(client, network, clinic, clinic.patient)

    page = await (await client.get(f"/spoke/notes/{note['id']}")).text()

    assert NOTICE in page and ASSESSMENT in page
    assert page.index(NOTICE) < page.index(ASSESSMENT)
    assert "<dt>Disclosed under</dt><dd>Treatment, payment and health care operations" in page
    assert f"<dt>To</dt><dd>{clinic.spoke.name}</dd>" in page
    assert "<dt>Expires</dt><dd>until revoked</dd>" in page
    assert await disclosed(conn, note["id"]) == ["page"]


async def test_the_print_view_carries_the_notice_scope_and_labels_in_words(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    note = await note_for(client, network, clinic, clinic.patient)

    printout = await (await client.get(f"/spoke/notes/{note['id']}/print")).text()

    assert NOTICE in printout and ASSESSMENT in printout
    assert "<dt>Covers</dt><dd>E-consult answers" in printout
    assert "Restricted (R)" in printout
    assert "42 cfr part2 (42CFRPart2)" in printout
    assert "No redisclosure without consent directive (NORDSCLCD)" in printout
    assert await disclosed(conn, note["id"]) == ["print"]


async def test_the_disclosures_page_lists_each_view_and_print(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    note = await note_for(client, network, clinic, clinic.patient)
    await client.get(f"/spoke/notes/{note['id']}")
    await client.get(f"/spoke/notes/{note['id']}/print")

    page = await (await client.get(f"/spoke/patients/{clinic.patient.id}/disclosures")).text()
    printout = await client.get(f"/spoke/patients/{clinic.patient.id}/disclosures/print")

    assert ": 2 disclosures." in page
    assert "Read on a Telehub page" in page and "Printed from Telehub" in page
    assert page.count("Consult note, version 1") == 2
    assert printout.status == 200
    assert "Accounting of disclosures (42 CFR part 2)" in await printout.text()


async def test_the_disclosures_page_refuses_a_bad_since_at_its_field(
    client: TestClient, clinic: Clinic
) -> None:
    response = await client.get(
        f"/spoke/patients/{clinic.patient.id}/disclosures", params={"since": "March"}
    )

    assert response.status == 422
    page = await response.text()
    assert 'id="f-since-error">must be a date, like 2027-03-01' in page


async def test_another_clinics_patient_has_no_disclosures_page(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    rival = await network.spoke()
    theirs = await network.patient(rival)

    page = await client.get(f"/spoke/patients/{theirs.id}/disclosures")
    form = await client.get(f"/spoke/patients/{theirs.id}/consents/new")

    assert page.status == form.status == 404
