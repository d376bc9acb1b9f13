"""What the registry pages leave behind: an audit row for each patient-linked record they read
or change, and no patient name, MRN, answer, score or contact detail in any log line."""

from __future__ import annotations

import io
from datetime import date

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock
from tests.factories import care as cf
from tests.http.registry_pages.support import CareDesk, episode, phq9_form, post
from tests.log_capture import log_lines_fixture, logged

__all__ = ["log_lines_fixture"]


async def audited(conn: asyncpg.Connection, action: str, record_type: str) -> set[str]:
    rows = await conn.fetch(
        "SELECT record_id FROM audit_log WHERE action = $1 AND record_type = $2",
        action,
        record_type,
    )
    return {str(r["record_id"]) for r in rows}


async def test_the_episode_page_audits_the_episode_patient_measures_and_contacts_it_shows(
    client: TestClient, desk: CareDesk, conn: asyncpg.Connection, clock: Clock
) -> None:
    e = await episode(conn, desk, clock.now)
    m = await cf.measure(conn, e, "phq9", date(2027, 2, 1), now=clock.now, items=cf.phq9(12))
    c = await cf.contact(conn, e, date(2027, 2, 1), now=clock.now)
    await conn.execute("DELETE FROM audit_log")
    assert (await client.get(f"/spoke/registry/{e.id}")).status == 200
    assert str(e.id) in await audited(conn, "read", "episode")
    assert str(desk.patient.id) in await audited(conn, "read", "patient")
    assert str(m.id) in await audited(conn, "read", "care_measure")
    assert str(c.id) in await audited(conn, "read", "care_contact")


async def test_entering_a_phq9_and_a_contact_logs_no_patient_data(
    client: TestClient,
    desk: CareDesk,
    conn: asyncpg.Connection,
    clock: Clock,
    log_lines: io.StringIO,
) -> None:
    e = await episode(conn, desk, clock.now)
    answers = [3, 3, 2, 2, 2, 2, 1, 1, 2]  # 18
    response = await post(
        client, f"/spoke/registry/{e.id}/measures/phq9", phq9_form(answers), desk.csrf
    )
    assert response.status == 303
    contact = {
        "contact.contact_on": "2027-03-01",
        "contact.minutes": "37",
        "contact.kind": "phone",
        "contact.who": "Daughter Philippa",
        "contact.counts": "true",
    }
    assert (
        await post(client, f"/spoke/registry/{e.id}/contacts", contact, desk.csrf)
    ).status == 303
    for path in ("/spoke/registry", f"/spoke/registry/{e.id}", "/spoke/registry/billing"):
        assert (await client.get(path)).status == 200
    lines = logged(log_lines)
    assert any(line.get("route") == "/spoke/registry/{episode_id}" for line in lines)
    text = log_lines.getvalue()
    for secret in ("Quimby", desk.patient.given_name, desk.patient.mrn, "Philippa", "items"):
        assert secret not in text, secret
    for line in lines:
        assert not {"score", "items", "answers", "minutes", "who"} & set(line), line
