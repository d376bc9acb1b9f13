"""The counselor's group pages: my groups, the roster, attendance in one form, and a note per
attending patient signed from the same screen (same rules as every note)."""

from __future__ import annotations

import json

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in
from tests.http.group_hub.support import NOTE, Group, seat_rows


def _page(g: Group, position: int = 1) -> str:
    return f"/hub/groups/{g.id}/occurrences/{position}"


async def _post(client: TestClient, path: str, data: dict[str, str], page: str) -> ClientResponse:
    token = await page_csrf(client, page)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


async def _seat_ids(conn: asyncpg.Connection, g: Group) -> dict[int, str]:
    rows = await conn.fetch(
        "SELECT seat_no, id FROM group_seats WHERE occurrence_id = $1", g.occurrences[0]
    )
    return {r["seat_no"]: str(r["id"]) for r in rows}


ATTENDANCE = {"seat.1": "attended", "seat.2": "attended", "seat.3": "no_show"}


async def test_my_groups_lists_each_occurrence_with_seats_taken(
    client: TestClient, counselor_group: Group
) -> None:
    response = await client.get("/hub/groups")
    html = await response.text()
    assert response.status == 200
    assert "MOUD support group · Mondays" in html
    assert html.count("4 of 8 seats taken") == 3  # three weekly sessions
    assert ">My groups</a>" in html  # the consultant's menu
    assert str(counselor_group.patients[0].id) not in html


async def test_the_roster_names_each_patient_and_clinic_and_attendance_saves_in_one_post(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    html = await (await client.get(_page(g))).text()
    for patient in g.patients:
        assert f"{patient.family_name}, {patient.given_name}" in html
    assert all(c.name in html for c in g.clinics)
    assert html.count('type="radio"') == 4 * 3

    response = await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))

    assert response.status == 303
    stored = await seat_rows(conn, g.occurrences[0])
    assert [stored[e]["attendance"] for e in g.enrolments] == [
        "attended",
        "attended",
        "no_show",
        "expected",
    ]
    after = await (await client.get(_page(g))).text()
    assert "Attendance saved for 3 of 4 patients." in after
    assert after.count("Sign and send to") == 2  # a note editor per attending patient
    assert 'value="no_show" checked' in after


async def test_attendance_with_nothing_chosen_or_before_the_start_says_what_to_fix(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    empty = await _post(client, f"{_page(g)}/attendance", {}, _page(g))
    assert empty.status == 422
    assert "Choose attended, no-show or excused for a patient." in await empty.text()

    early = await _post(client, f"{_page(g, 2)}/attendance", {"seat.2": "attended"}, _page(g, 2))
    html = await early.text()
    assert early.status == 422
    assert "can be recorded once the session starts" in html
    assert 'value="attended" checked' in html  # the choice is kept
    stored = [s for o in g.occurrences for s in (await seat_rows(conn, o)).values()]
    assert all(s["attendance"] == "expected" for s in stored)


async def test_each_attending_patients_note_is_signed_from_the_roster_and_goes_to_their_clinic(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))
    seats = await _seat_ids(conn, g)

    signed = await _post(
        client, f"{_page(g)}/seats/{seats[1]}/note", {**NOTE, "action": "sign"}, _page(g)
    )

    assert signed.status == 303
    outbox = await conn.fetch("SELECT spoke_id, event_type, payload FROM outbox")
    assert [(r["spoke_id"], r["event_type"]) for r in outbox] == [(g.clinics[0].id, "note.signed")]
    payload = json.dumps(outbox[0]["payload"])
    assert str(g.patients[0].id) in payload
    for other in g.patients[1:]:
        assert str(other.id) not in payload and other.family_name not in payload
    page = await (await client.get(_page(g))).text()
    assert "Note version 1 is signed and on its way to the clinic." in page
    assert page.count("Sign and send to") == 1  # the second attending patient's is left


async def test_signing_an_empty_group_note_is_refused_naming_what_is_missing_and_saves_nothing(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))
    seats = await _seat_ids(conn, g)
    empty = {k: "" for k in NOTE}

    response = await _post(
        client, f"{_page(g)}/seats/{seats[2]}/note", {**empty, "action": "sign"}, _page(g)
    )

    assert response.status == 422
    html = await response.text()
    assert "Write the assessment before signing." in html
    assert "Write the follow-up plan before signing." in html
    assert await conn.fetchval("SELECT count(*) FROM consult_notes") == 0
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_a_note_for_a_patient_not_recorded_as_attended_is_refused(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))
    seats = await _seat_ids(conn, g)

    response = await _post(
        client, f"{_page(g)}/seats/{seats[3]}/note", {**NOTE, "action": "sign"}, _page(g)
    )

    assert response.status == 409
    assert "Record the patient as attended before writing their note." in await response.text()
    assert await conn.fetchval("SELECT count(*) FROM consult_notes") == 0


async def test_a_signed_note_is_amended_from_the_roster_as_version_2_for_the_same_clinic(
    client: TestClient, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))
    seats = await _seat_ids(conn, g)
    note = f"{_page(g)}/seats/{seats[1]}/note"
    await _post(client, note, {**NOTE, "action": "sign"}, _page(g))

    amending = await (await client.get(f"{_page(g)}?amend=1")).text()
    assert "Amendment: version 2." in amending
    assert NOTE["sections.follow_up"] in amending  # starting from the signed text
    changed = {**NOTE, "sections.follow_up": "Add an individual session this week."}
    response = await _post(client, note, {**changed, "action": "sign"}, f"{_page(g)}?amend=1")

    assert response.status == 303
    outbox = await conn.fetch("SELECT spoke_id, event_type FROM outbox ORDER BY id")
    assert [(r["spoke_id"], r["event_type"]) for r in outbox] == [
        (g.clinics[0].id, "note.signed"),
        (g.clinics[0].id, "note.amended"),
    ]


async def test_another_counselor_reaches_neither_the_roster_nor_its_notes(
    client: TestClient, network: Network, counselor_group: Group, conn: asyncpg.Connection
) -> None:
    g = counselor_group
    await _post(client, f"{_page(g)}/attendance", ATTENDANCE, _page(g))
    seats = await _seat_ids(conn, g)
    other = await network.consultant([g.service], role="telehealth_counselor")
    client.session.cookie_jar.clear()
    email, password = await network.user("consultant", consultant_id=other.id)
    assert (await sign_in(client, email, password)).status == 303

    assert (await client.get(_page(g))).status == 404
    listed = await (await client.get("/hub/groups")).text()
    assert "MOUD support group" not in listed
    response = await _post(
        client, f"{_page(g)}/seats/{seats[1]}/note", {**NOTE, "action": "sign"}, "/hub/groups"
    )
    assert response.status == 404
    assert await conn.fetchval("SELECT count(*) FROM consult_notes") == 0
