"""A consult note shows what was asked, who signed it and when; its printout too, with Print."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.factories import Network, econsult, signed_note
from tests.http.spoke_support import Clinic

QUESTION = "Buprenorphine induction with ongoing fentanyl use: low-dose or standard?"


async def answered(client: TestClient, network: Network, c: Clinic) -> dict[str, object]:
    """The hub's signed answer to the clinic's question (signed by a hub system for the
    consultant)."""
    asked = await econsult(
        client,
        c.spoke,
        patient_id=c.patient.id,
        service_id=c.econsult.id,
        question=QUESTION,
        referring_clinician="Dr. Lena Park, MD",
    )
    return await signed_note(client, network.consultant_headers(c.consultant.id), asked["id"])


async def test_the_note_page_shows_the_question_and_who_signed_when(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    note = await answered(client, network, clinic)

    page = await (await client.get(f"/spoke/notes/{note['id']}")).text()

    assert "What the clinic asked" in page and QUESTION in page
    assert "Asked by Dr. Lena Park, MD, sent Mon 1 Mar 2027, 10:00." in page
    signed = f"by {clinic.consultant.name}, Mon 1 Mar 2027, 10:00"
    assert f"<dt>Signed</dt><dd>{signed}" in page
    assert page.index(QUESTION) < page.index("Assessment")


async def test_the_printout_has_a_print_button_and_the_question(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    note = await answered(client, network, clinic)

    printout = await (await client.get(f"/spoke/notes/{note['id']}/print")).text()

    assert '<button type="button" id="print-note">Print</button>' in printout
    assert '<script src="/static/print.js" defer></script>' in printout
    assert QUESTION in printout and printout.index(QUESTION) < printout.index("Assessment")
    assert f"by {clinic.consultant.name}, Mon 1 Mar 2027, 10:00" in printout
    script = await client.get("/static/print.js")
    assert script.status == 200
    assert 'getElementById("print-note")' in await script.text()
