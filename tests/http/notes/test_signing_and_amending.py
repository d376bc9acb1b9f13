"""Consult notes: draft, sign, amend; a signed note never changes; one draft at a time;
acknowledgement closes the loop."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import (
    NOTE_SECTIONS,
    draft_note,
    sign_note,
)
from tests.http.notes.support import Loop, clinic_view


async def test_signing_sends_the_note_and_acknowledging_closes_the_loop(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    draft = await draft_note(client, loop.hub, loop.econsult_id, {**NOTE_SECTIONS, "follow_up": ""})
    assert draft["status"] == "draft" and draft["version"] == 1
    hidden = await client.get(f"/api/v1/notes/{draft['id']}", headers=loop.spoke.headers)
    assert hidden.status == 404  # a clinic never sees a draft

    incomplete = await client.post(f"/api/v1/notes/{draft['id']}/sign", headers=loop.hub)
    assert incomplete.status == 422
    assert [e["field"] for e in (await incomplete.json())["errors"]] == ["sections.follow_up"]
    edited = await client.put(
        f"/api/v1/notes/{draft['id']}",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert edited.status == 200

    signed = await sign_note(client, loop.hub, draft["id"])
    assert signed["status"] == "signed"
    assert (await clinic_view(client, loop))["status"] == "answered"
    event = await conn.fetchrow("SELECT event_type, spoke_id, payload FROM outbox")
    assert (event["event_type"], event["spoke_id"]) == ("note.signed", loop.spoke.id)
    assert event["payload"]["data"]["note_id"] == draft["id"]
    assert "note" not in event["payload"]["data"]  # thin by default: ids and links only

    inbox = await (
        await client.get(
            "/api/v1/notes", params={"acknowledged": "false"}, headers=loop.spoke.headers
        )
    ).json()
    assert [n["id"] for n in inbox["notes"]] == [draft["id"]]
    acked = await client.post(
        f"/api/v1/notes/{draft['id']}/acknowledge", headers=loop.spoke.headers
    )
    assert acked.status == 200 and (await acked.json())["acknowledged_at"]
    again = await client.post(
        f"/api/v1/notes/{draft['id']}/acknowledge", headers=loop.spoke.headers
    )
    assert (await again.json())["acknowledged_at"] == (await acked.json())["acknowledged_at"]
    assert (await clinic_view(client, loop))["status"] == "closed"
    open_loops = await (
        await client.get(
            "/api/v1/notes", params={"acknowledged": "false"}, headers=loop.spoke.headers
        )
    ).json()
    assert open_loops["notes"] == []


async def test_a_signed_note_cannot_be_edited_and_an_amendment_is_version_two(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    first = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, first["id"])

    edit = await client.put(
        f"/api/v1/notes/{first['id']}",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    resign = await client.post(f"/api/v1/notes/{first['id']}/sign", headers=loop.hub)
    assert (edit.status, resign.status) == (409, 409)

    amended_sections = {**NOTE_SECTIONS, "follow_up": "Re-consult in 2 weeks."}
    amendment = await draft_note(client, loop.hub, loop.econsult_id, amended_sections)
    assert amendment["version"] == 2
    await client.post(f"/api/v1/notes/{first['id']}/acknowledge", headers=loop.spoke.headers)
    signed = await sign_note(client, loop.hub, amendment["id"])

    assert signed["sections"]["follow_up"] == "Re-consult in 2 weeks."
    events = await conn.fetch("SELECT event_type, payload FROM outbox ORDER BY id")
    assert [e["event_type"] for e in events] == ["note.signed", "note.amended"]
    assert events[1]["payload"]["data"]["version"] == 2
    assert (await clinic_view(client, loop))["status"] == "answered"  # v2 awaits its ack
    versions = await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=loop.spoke.headers)
    ).json()
    assert [(n["version"], n["status"]) for n in versions["notes"]] == [
        (1, "signed"),
        (2, "signed"),
    ]
    assert versions["notes"][0]["sections"] == NOTE_SECTIONS  # version 1 is as it was signed


async def test_the_database_itself_refuses_to_change_a_signed_note(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, note["id"])
    for statement in (
        "UPDATE consult_notes SET sections = '{}' WHERE id = $1",
        "DELETE FROM consult_notes WHERE id = $1",
    ):
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="signed"):
            await conn.execute(statement, uuid.UUID(note["id"]))


async def test_only_one_draft_at_a_time(client: TestClient, loop: Loop) -> None:
    await draft_note(client, loop.hub, loop.econsult_id)
    second = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert second.status == 409
