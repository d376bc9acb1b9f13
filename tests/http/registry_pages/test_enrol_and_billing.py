"""Enrolling a patient from their page, with errors at their fields; the month's billing
report with its CSV download; the patient page listing the patient's episodes."""

from __future__ import annotations

import csv
import io
from datetime import date

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.factories import care as cf
from tests.http.registry_pages.support import CareDesk, count, episode, error_at, post


def enrol_form(desk: CareDesk, **changes: str) -> dict[str, str]:
    """The enrolment form as the care manager fills it."""
    return {
        "program": "collaborative_care",
        "care_manager_id": str(desk.manager.id),
        "treating_clinician": "Dr. Rivera",
        "consultant_id": str(desk.consultant.id),
        "started_on": "2027-03-01",
        **changes,
    }


async def test_the_patient_page_links_to_enrolment_and_the_form_offers_the_team(
    client: TestClient, desk: CareDesk, network: Network
) -> None:
    counselor = await network.consultant([], role="telehealth_counselor")
    patient_page = await (await client.get(f"/spoke/patients/{desk.patient.id}")).text()
    assert f'href="/spoke/patients/{desk.patient.id}/episodes/new"' in patient_page
    assert "Not enrolled in care." in patient_page
    html = await (await client.get(f"/spoke/patients/{desk.patient.id}/episodes/new")).text()
    assert f'<option value="{desk.manager.id}">{desk.manager.name}</option>' in html
    assert f'<option value="{desk.consultant.id}">{desk.consultant.name}' in html
    assert f'<option value="{counselor.id}"' not in html  # not a consultant of the registry
    assert 'value="2027-03-01"' in html  # the start date starts at today


async def test_enrolling_opens_the_episode_and_the_patient_page_lists_it(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection
) -> None:
    response = await post(
        client, f"/spoke/patients/{desk.patient.id}/episodes", enrol_form(desk), desk.csrf
    )
    assert response.status == 303
    episode_id = await conn.fetchval("SELECT id FROM episodes")
    assert response.headers["Location"] == f"/spoke/registry/{episode_id}"
    page = await (await client.get(f"/spoke/patients/{desk.patient.id}")).text()
    assert f'href="/spoke/registry/{episode_id}"' in page and "open" in page
    # Enrolled again in the same program: refused at the program, nothing written.
    response = await post(
        client, f"/spoke/patients/{desk.patient.id}/episodes", enrol_form(desk), desk.csrf
    )
    assert response.status == 409
    assert "already enrolled" in error_at(await response.text(), "f-program")
    assert await count(conn, "episodes") == 1


async def test_each_refused_enrolment_says_which_field_and_writes_nothing(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, network: Network
) -> None:
    path = f"/spoke/patients/{desk.patient.id}/episodes"
    counselor = await network.consultant([], role="telehealth_counselor")
    cases = {
        "f-treating_clinician": ({"treating_clinician": ""}, "is required"),
        "f-started_on": ({"started_on": "2027-03-02"}, "is in the future"),
        "f-consultant_id": ({"consultant_id": str(counselor.id)}, "is not an active"),
        "f-care_manager_id": ({"care_manager_id": "999999"}, "is not a care manager"),
        "f-program": ({"program": "wellness"}, "choose one of the options listed"),
    }
    for input_id, (change, words) in cases.items():
        response = await post(client, path, enrol_form(desk, **change), desk.csrf)
        assert response.status == 422, input_id
        assert words in error_at(await response.text(), input_id), input_id
    assert await count(conn, "episodes") == 0


async def test_another_clinics_patient_cannot_be_enrolled_or_seen(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, network: Network
) -> None:
    other = await cf.care_clinic(network)
    theirs = await network.patient(other.spoke, family_name="Elsewhere")
    assert (await client.get(f"/spoke/patients/{theirs.id}/episodes/new")).status == 404
    response = await post(
        client, f"/spoke/patients/{theirs.id}/episodes", enrol_form(desk), desk.csrf
    )
    assert response.status == 404
    assert await count(conn, "episodes") == 0


async def test_the_billing_page_lists_the_months_codes_and_downloads_the_same_csv(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now, started_on=date(2027, 2, 1))
    await cf.contact(conn, e, date(2027, 2, 3), now=clock.now, minutes=30)
    await cf.contact(conn, e, date(2027, 2, 10), now=clock.now, minutes=10)
    await cf.contact(conn, e, date(2027, 2, 11), now=clock.now, minutes=50, counts=False)
    response = await client.get("/spoke/registry/billing?month=2027-02")
    assert response.status == 200
    html = await response.text()
    assert "Billing report, February 2027" in html
    row = html.split('<table class="billing">', 1)[1].split("</tbody>", 1)[0]
    assert "Quimby" in row and desk.patient.mrn in row
    assert "<td>40</td>" in row and "<td>Yes</td>" in row and "<td>99492</td>" in row
    assert 'href="/spoke/registry/billing?month=2027-01"' in html
    assert 'href="/spoke/registry/billing?month=2027-03"' in html
    download = await client.get("/spoke/registry/billing.csv?month=2027-02")
    assert download.status == 200 and download.content_type == "text/csv"
    assert 'filename="billing-' in download.headers["Content-Disposition"]
    lines = list(csv.DictReader(io.StringIO(await download.text())))
    assert [(r["mrn"], r["family_name"], r["minutes"], r["code"]) for r in lines] == [
        (desk.patient.mrn, "Quimby", "40", "99492")
    ]


async def test_a_month_that_is_not_one_is_refused_at_the_month(
    client: TestClient, desk: CareDesk
) -> None:
    response = await client.get("/spoke/registry/billing?month=February")
    assert response.status == 422
    assert error_at(await response.text(), "f-month") == "must be a month, like 2027-01"
    assert (await client.get("/spoke/registry/billing.csv?month=2027-13")).status == 422
