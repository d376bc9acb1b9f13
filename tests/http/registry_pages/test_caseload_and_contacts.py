"""The caseload: most urgent first, flags in words, a trend per patient, filters, and logging
a contact in two clicks from a row; another clinic's episodes never shown."""

from __future__ import annotations

import re
from datetime import date

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.factories import care as cf
from tests.http.registry_pages.support import CareDesk, count, episode, error_at, post, summary


def rows(html: str) -> list[str]:
    """The caseload's rows' markup, top to bottom."""
    body = html.split('<table class="registry">', 1)[1].rsplit("</table>", 1)[0]
    return ['<tr id="episode-' + r for r in body.split('<tr id="episode-')[1:]]


async def test_the_safety_flag_puts_a_patient_at_the_top_in_words_with_each_trend(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock, network: Network
) -> None:
    # The longest in treatment comes first among equals: the safety flag overrides it.
    calm = await episode(conn, desk, clock.now, started_on=date(2026, 12, 7))
    other = await network.patient(desk.spoke, family_name="Xavier")
    urgent = await episode(conn, desk, clock.now, patient=other, started_on=date(2027, 2, 1))
    await cf.measure(conn, calm, "phq9", date(2027, 1, 4), now=clock.now, items=cf.phq9(16))
    await cf.measure(conn, calm, "phq9", date(2027, 2, 22), now=clock.now, items=cf.phq9(6))
    await cf.measure(
        conn, urgent, "phq9", date(2027, 2, 28), now=clock.now, items=cf.phq9(14, item9=1)
    )
    response = await client.get("/spoke/registry")
    assert response.status == 200
    html = await response.text()
    first, second = rows(html)
    assert "Xavier" in first and 'class="safety"' in first
    assert "Safety: PHQ-9 item 9 answered above 0" in first  # words, not colour alone
    assert "Quimby" in second and "Safety" not in second
    assert "16 → 6" in second and "(-62.5%)" in second
    assert other.mrn in first and desk.patient.mrn in second
    # Each row has its small chart, named, and its numbers in a table a screen reader reads.
    assert all('role="img"' in r and "visually-hidden" in r for r in (first, second))
    assert "Xavier, oldest first</caption>" in first and "<td>14</td>" in first
    # Every episode shown was read in the audit log.
    audited = await conn.fetch(
        "SELECT record_id FROM audit_log WHERE record_type = 'episode' AND action = 'read'"
    )
    assert {str(calm.id), str(urgent.id)} <= {str(r["record_id"]) for r in audited}


async def test_the_caseload_filters_by_flag_and_program_and_refuses_an_unknown_one(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock, network: Network
) -> None:
    await episode(conn, desk, clock.now, started_on=date(2027, 2, 22))  # new
    other = await network.patient(desk.spoke, family_name="Xavier")
    await episode(conn, desk, clock.now, patient=other, program="oud")
    html = await (await client.get("/spoke/registry?flag=new")).text()
    assert [("Quimby" in r) for r in rows(html)] == [True]
    html = await (await client.get("/spoke/registry?program=oud")).text()
    assert [("Xavier" in r) for r in rows(html)] == [True]
    response = await client.get("/spoke/registry?flag=sad")
    assert response.status == 422
    assert error_at(await response.text(), "f-flag") == "choose one of the options listed"


async def test_another_clinics_episodes_never_appear_on_the_caseload(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock, network: Network
) -> None:
    other = await cf.care_clinic(network)
    theirs = await network.patient(other.spoke, family_name="Elsewhere")
    await cf.enrol(
        conn,
        other.spoke,
        theirs.id,
        care_manager_id=other.care_manager.id,
        consultant_id=other.consultant.id,
        started_on=date(2027, 1, 4),
        now=clock.now,
    )
    await episode(conn, desk, clock.now)
    html = await (await client.get("/spoke/registry")).text()
    assert len(rows(html)) == 1 and "Elsewhere" not in html and theirs.mrn not in html


async def test_a_contact_is_logged_in_two_clicks_from_the_caseload(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    caseload = await (await client.get("/spoke/registry")).text()
    link = f'href="/spoke/registry/{e.id}/contact"'
    assert link in rows(caseload)[0]  # click one: the row's Log contact
    form = await (await client.get(f"/spoke/registry/{e.id}/contact")).text()
    # Filled in for the common call: today, 15 minutes, by phone, counting toward care time.
    sent = dict(re.findall(r'name="(contact\.[a-z_]+)" type="[a-z]+" value="([^"]*)"', form))
    assert sent["contact.contact_on"] == "2027-03-01" and sent["contact.minutes"] == "15"
    assert '<option value="phone" selected>' in form
    assert 'name="contact.counts" value="true" checked' in form
    # Click two: save, as the browser sends the prefilled form.
    data = {**sent, "contact.kind": "phone", "contact.counts": "true", "back": "caseload"}
    response = await post(client, f"/spoke/registry/{e.id}/contacts", data, desk.csrf)
    assert response.status == 303
    assert response.headers["Location"] == f"/spoke/registry#episode-{e.id}"
    stored = await conn.fetchrow("SELECT * FROM care_contacts WHERE episode_id = $1", e.id)
    assert (stored["contact_on"], stored["minutes"], stored["kind"], stored["counts"]) == (
        date(2027, 3, 1),
        15,
        "phone",
        True,
    )
    html = await (await client.get("/spoke/registry")).text()
    assert "Contact saved: 15 minutes." in html and "Mon 1 Mar" in rows(html)[0]


async def test_a_refused_contact_comes_back_with_the_error_at_its_field_and_is_not_saved(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    data = {
        "contact.contact_on": "2027-03-01",
        "contact.minutes": "0",
        "contact.kind": "phone",
        "contact.who": "Patient",
        "back": "caseload",
    }
    response = await post(client, f"/spoke/registry/{e.id}/contacts", data, desk.csrf)
    assert response.status == 422
    html = await response.text()
    assert error_at(html, "f-contact-minutes") == "must be 1 or more"
    assert summary(html) == ["Minutes: must be 1 or more"]
    assert 'value="Patient"' in html  # what was typed is kept
    response = await post(
        client,
        f"/spoke/registry/{e.id}/contacts",
        {**data, "contact.minutes": "20", "contact.contact_on": "2026-12-01"},
        desk.csrf,
    )
    assert response.status == 422
    assert error_at(await response.text(), "f-contact-contact_on") == "is before the episode began"
    # Not counting toward care time is a choice too: the unticked box saves counts = false.
    response = await post(
        client, f"/spoke/registry/{e.id}/contacts", {**data, "contact.minutes": "5"}, desk.csrf
    )
    assert response.status == 303
    assert await conn.fetchval("SELECT counts FROM care_contacts") is False
    assert await count(conn, "care_contacts") == 1
