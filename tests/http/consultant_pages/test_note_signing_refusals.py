"""Pressing Sign on a note that lacks what signing needs: refused, named, nothing saved."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from consults import notes
from consults.note_store import Subject
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import ValidationFailed
from tests.factories import Clock, Network, draft_note
from tests.http.consultant_pages.support import Hub, ask, notes_of, post

EMPTY = {
    "sections.assessment": "",
    "sections.recommendations.medications": "",
    "sections.recommendations.moud": "",
    "sections.recommendations.therapy": "",
    "sections.recommendations.referrals": "",
    "sections.follow_up": "",
}


async def test_signing_an_empty_note_on_the_page_says_what_is_missing_and_saves_nothing(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"

    response = await post(client, f"{page}/note", {**EMPTY, "action": "sign"}, page)

    assert response.status == 422
    html = await response.text()
    assert "Assessment: Write the assessment before signing." in html
    assert "Recommendations: Write at least one recommendation before signing." in html
    assert "Follow-up: Write the follow-up plan before signing." in html
    assert "Nothing was saved" in html
    assert await notes_of(conn, econsult_id) == []  # no empty draft
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_signing_a_draft_with_a_missing_section_keeps_the_saved_draft_as_it_was(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    saved = {**EMPTY, "sections.assessment": "Depression, moderate.", "action": "save"}
    assert (await post(client, f"{page}/note", saved, page)).status == 303
    [draft] = await notes_of(conn, econsult_id)
    typed = {**saved, "sections.assessment": "", "sections.follow_up": "In 4 weeks."}

    response = await post(
        client, f"{page}/note", {**typed, "note_id": str(draft["id"]), "action": "sign"}, page
    )

    assert response.status == 422
    html = await response.text()
    assert "Write the assessment before signing." in html
    assert ">In 4 weeks.</textarea>" in html  # what was typed is shown again
    [kept] = await notes_of(conn, econsult_id)
    assert kept["signed_at"] is None
    assert kept["sections"]["assessment"] == "Depression, moderate."  # the draft as saved


async def test_the_api_refuses_to_sign_an_empty_draft_naming_each_missing_field(
    client: TestClient, network: Network, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    headers = network.consultant_headers(hub.consultant.id)
    draft = await draft_note(client, headers, econsult_id, {})

    response = await client.post(f"/api/v1/notes/{draft['id']}/sign", headers=headers)

    assert response.status == 422
    problem = await response.json()
    named = {(e["field"], e["detail"]) for e in problem["errors"]}
    assert named == {
        ("sections.assessment", "is required to sign"),
        ("sections.recommendations", "is required to sign"),
        ("sections.follow_up", "is required to sign"),
    }
    [kept] = await notes_of(conn, econsult_id)
    assert kept["signed_at"] is None


async def test_save_and_sign_refuses_before_writing_anything(
    client: TestClient, hub: Hub, conn: asyncpg.Connection, clock: Clock
) -> None:
    econsult_id = await ask(client, hub)
    caller = Caller("consultant", "c", KIND_SCOPES["consultant"], consultant_id=hub.consultant.id)
    sections = {"assessment": "Depression.", "recommendations": {}, "follow_up": ""}

    try:
        await notes.save_and_sign(
            conn,
            caller,
            Trail("test"),
            Subject(econsult_id=uuid.UUID(econsult_id)),
            None,
            sections,
            base_url="http://telehub.test",
            now=clock.now,
        )
    except ValidationFailed as failed:
        assert [e.field for e in failed.errors] == [
            "sections.recommendations",
            "sections.follow_up",
        ]
    else:
        raise AssertionError("signing an incomplete note must be refused")
    assert await notes_of(conn, econsult_id) == []
