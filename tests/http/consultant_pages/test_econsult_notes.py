"""The consultant's worklist and e-consult notes: sorted by due time, drafted, signed,
refused once signed, amended; missing sections named; asking the clinic pauses the clock."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, page_csrf
from tests.http.consultant_pages.support import NOTE, Hub, ask, between, notes_of, post


async def test_the_worklist_is_sorted_by_due_time_and_marks_overdue_ones(
    client: TestClient, network: Network, hub: Hub, clock: Clock
) -> None:
    birch = await network.patient(hub.spoke, family_name="Birch")
    alder = await network.patient(hub.spoke, family_name="Alder")
    routine = await ask(client, hub, patient=birch)  # asked first, due in 40 business hours
    urgent = await ask(client, hub, patient=alder, urgency="urgent")  # due in 8
    clock.now = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)  # the urgent one is now past due

    html = await (await client.get("/hub/worklist")).text()

    rows = between(html, "<tbody>", "</tbody>").split("<tr")[1:]
    assert [urgent in rows[0], routine in rows[1]] == [True, True]
    assert 'class="tag overdue">overdue<' in rows[0] and 'class="is-overdue"' in rows[0]
    assert "overdue" not in rows[1]
    assert 'class="tag urgent">urgent<' in rows[0] and "routine" in rows[1]
    assert "Alder" in rows[0] and hub.spoke.name in rows[0]


async def test_a_note_is_drafted_signed_refused_once_signed_and_amended_as_version_two(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    draft = await post(client, f"{page}/note", {**NOTE, "action": "save"}, page)
    assert draft.status == 303 and draft.headers["Location"] == f"{page}#note"
    [saved] = await notes_of(conn, econsult_id)
    assert saved["signed_at"] is None and saved["version"] == 1
    assert saved["sections"]["recommendations"]["moud"].startswith("Low-dose")
    html = await (await client.get(page)).text()
    assert f'name="note_id" value="{saved["id"]}"' in html
    assert "Opioid use disorder, severe" in html  # the draft is shown to edit

    signed = await post(
        client, f"{page}/note", {**NOTE, "note_id": str(saved["id"]), "action": "sign"}, page
    )
    assert signed.status == 303
    [note] = await notes_of(conn, econsult_id)
    assert note["signed_at"] is not None
    event = await conn.fetchrow("SELECT event_type, spoke_id FROM outbox")
    assert (event["event_type"], event["spoke_id"]) == ("note.signed", hub.spoke.id)
    html = await (await client.get(page)).text()
    assert "Version 1" in html and 'class="tag signed"' in html
    assert "Write an amendment" in html and 'name="note_id"' not in html

    csrf = await page_csrf(client, page)
    stale = await client.post(  # the form of a tab opened before signing
        f"{page}/note",
        data={
            **NOTE,
            "sections.assessment": "Changed",
            "note_id": str(note["id"]),
            "csrf_token": csrf,
        },
        allow_redirects=False,
    )
    assert stale.status == 409
    assert "can no longer change" in await stale.text()
    assert (await notes_of(conn, econsult_id))[0]["sections"] == note["sections"]

    amend = await (await client.get(page, params={"amend": "1"})).text()
    assert "Amendment: version 2" in amend and "Opioid use disorder, severe" in amend
    amended = {**NOTE, "sections.follow_up": "Re-consult in 2 weeks."}
    assert (await post(client, f"{page}/note", amended, page)).status == 303
    first, second = await notes_of(conn, econsult_id)
    assert (second["version"], second["signed_at"]) == (2, None)
    resigned = await post(client, f"/hub/notes/{second['id']}/sign", {}, page)
    assert resigned.status == 303
    first, second = await notes_of(conn, econsult_id)
    assert second["signed_at"] is not None and second["sections"]["follow_up"] == (
        "Re-consult in 2 weeks."
    )
    assert first["sections"] == note["sections"]  # version 1 is as it was signed
    html = await (await client.get(page)).text()
    assert "Version 2 (amendment)" in html and "Earlier versions (1)" in html
    events = await conn.fetch("SELECT event_type FROM outbox ORDER BY id")
    assert [e["event_type"] for e in events] == ["note.signed", "note.amended"]


async def test_signing_without_the_required_sections_says_which_are_missing(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    typed = {"sections.assessment": "Depression, moderate.", "action": "sign"}

    response = await post(client, f"{page}/note", typed, page)

    assert response.status == 422
    html = await response.text()
    assert "Write at least one recommendation before signing." in html
    assert "Write the follow-up plan before signing." in html
    assert 'href="#f-sections-follow_up"' in html
    assert "Write the assessment before signing." not in html
    assert ">Depression, moderate.</textarea>" in html  # kept as typed
    assert await notes_of(conn, econsult_id) == []  # signing refused: nothing saved
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_asking_the_clinic_pauses_the_clock(
    client: TestClient, hub: Hub, conn: asyncpg.Connection, clock: Clock
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    html = await (await client.get(page)).text()
    assert "Buprenorphine/naloxone, 16 mg a day" in html
    assert "18 of 27: moderately severe" in html and "11 of 21: moderate" in html
    assert "Positive for fentanyl, xylazine; Negative for cocaine" in html
    assert "Present, 6 of 10, Chronic low back pain" in html
    assert "housing, transportation" in html and "Sister attends visits" in html

    empty = await post(client, f"{page}/messages", {"body": "", "asks_clinic": "true"}, page)
    assert empty.status == 422
    assert 'id="f-body-error"' in await empty.text()
    asked = await post(
        client,
        f"{page}/messages",
        {"body": "What is the current buprenorphine dose?", "asks_clinic": "true"},
        page,
    )

    assert asked.status == 303
    row = await conn.fetchrow(
        "SELECT status, paused_at FROM econsults WHERE id = $1", uuid.UUID(econsult_id)
    )
    assert (row["status"], row["paused_at"]) == ("awaiting_clinic", clock.now)
    html = await (await client.get(page)).text()
    assert "The clock is paused" in html and "What is the current buprenorphine dose?" in html
    worklist = await (await client.get("/hub/worklist")).text()
    assert "awaiting clinic (clock paused)" in worklist
