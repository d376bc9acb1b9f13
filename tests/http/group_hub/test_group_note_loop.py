"""A signed group note goes through the closed loop to its patient's clinic alone: the outbox
holds it for that clinic only, its payload names no other patient, that clinic's inbox lists
it and acknowledges it, and another clinic can neither read nor acknowledge it."""

from __future__ import annotations

import json
import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in
from tests.http.group_hub.support import NOTE, Group


def _page(g: Group) -> str:
    return f"/hub/groups/{g.id}/occurrences/1"


async def _sign_notes(client: TestClient, g: Group, conn: asyncpg.Connection) -> None:
    """Patients 0 (clinic 0) and 1 (clinic 1) attended; the counselor signs a note for each."""
    token = await page_csrf(client, _page(g))
    marks = {"seat.1": "attended", "seat.2": "attended", "seat.3": "attended", "csrf_token": token}
    assert (await client.post(f"{_page(g)}/attendance", data=marks)).status == 200
    seats = await conn.fetch(
        "SELECT seat_no, id FROM group_seats WHERE occurrence_id = $1 AND seat_no <= 2 "
        "ORDER BY seat_no",
        g.occurrences[0],
    )
    for seat in seats:
        token = await page_csrf(client, _page(g))
        posted = {**NOTE, "action": "sign", "csrf_token": token}
        response = await client.post(
            f"{_page(g)}/seats/{seat['id']}/note", data=posted, allow_redirects=False
        )
        assert response.status == 303


async def test_each_clinic_gets_its_own_patients_note_and_no_word_of_another_patient(
    client: TestClient, network: Network, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    for clinic in g.clinics:  # the full payload carries the note's text too
        await client.put(
            f"/api/v1/spokes/{clinic.id}/webhook",
            json={"url": "https://ehr.example/telehub", "full_payload": True},
            headers=clinic.headers,
        )

    await _sign_notes(client, g, conn)

    outbox = await conn.fetch("SELECT spoke_id, payload FROM outbox ORDER BY created_at, id")
    assert sorted(r["spoke_id"] for r in outbox) == sorted(c.id for c in g.clinics)
    for row in outbox:
        payload = json.dumps(row["payload"])
        mine = [p for p in g.patients[:2] if p.spoke_id == row["spoke_id"]]
        assert len(mine) == 1 and str(mine[0].id) in payload
        assert NOTE["sections.assessment"] in payload
        for other in g.patients:
            if other is not mine[0]:
                assert str(other.id) not in payload
                assert other.given_name not in payload and other.mrn not in payload
            assert other.family_name not in payload  # not even the patient's own name
        for enrolment in g.enrolments:
            assert str(enrolment) not in payload


async def test_the_clinic_reads_and_acknowledges_its_group_note_and_no_other_clinic_can(
    client: TestClient, network: Network, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _sign_notes(client, g, conn)
    first, second = g.clinics

    inbox = await (
        await client.get("/api/v1/notes?acknowledged=false", headers=first.headers)
    ).json()
    [note] = inbox["notes"]
    assert note["patient_id"] == str(g.patients[0].id) and note["status"] == "signed"
    theirs = await (
        await client.get("/api/v1/notes?acknowledged=false", headers=second.headers)
    ).json()
    assert [n["patient_id"] for n in theirs["notes"]] == [str(g.patients[1].id)]

    path = f"/api/v1/notes/{note['id']}"
    assert (await client.get(path, headers=second.headers)).status == 404
    assert (await client.post(f"{path}/acknowledge", headers=second.headers)).status == 404
    acked = await client.post(f"{path}/acknowledge", headers=first.headers)
    assert acked.status == 200 and (await acked.json())["acknowledged_at"] is not None

    # The clinic's own pages show it like any note: the inbox, and the note with its versions.
    client.session.cookie_jar.clear()
    email, password = await network.user("spoke_scheduler", spoke_id=first.id)
    assert (await sign_in(client, email, password)).status == 303
    inbox_page = await (await client.get("/spoke/inbox")).text()
    assert g.patients[0].family_name in inbox_page
    assert "Group session" in inbox_page
    assert g.patients[1].given_name not in inbox_page
    shown = await client.get(f"/spoke/notes/{note['id']}")
    html = await shown.text()
    assert shown.status == 200 and NOTE["sections.recommendations.therapy"] in html
    assert "the patient's group session" in html and "/spoke/bookings/" not in html
    assert all(p.given_name not in html for p in g.patients[1:])
    assert (await client.get(f"/spoke/notes/{uuid.uuid4()}")).status == 404
