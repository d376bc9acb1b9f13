"""No note reaches or is readable by another clinic, and no other consultant writes it."""

from __future__ import annotations

import uuid

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import (
    NOTE_SECTIONS,
    Network,
    draft_note,
    sign_note,
)
from tests.http.notes.support import Loop


async def test_no_note_reaches_or_is_readable_by_another_clinic(
    client: TestClient, network: Network, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, note["id"])
    other = await network.spoke()

    read = await client.get(f"/api/v1/notes/{note['id']}", headers=other.headers)
    missing = await client.get(f"/api/v1/notes/{uuid.uuid4()}", headers=other.headers)
    acked = await client.post(f"/api/v1/notes/{note['id']}/acknowledge", headers=other.headers)
    inbox = await (await client.get("/api/v1/notes", headers=other.headers)).json()
    versions = await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=other.headers)
    ).json()

    assert (read.status, acked.status) == (404, 404)
    strip = {"request_id", "instance"}
    read_body = {k: v for k, v in (await read.json()).items() if k not in strip}
    assert read_body == {k: v for k, v in (await missing.json()).items() if k not in strip}
    assert inbox["notes"] == [] and versions["notes"] == []
    assert await conn.fetchval("SELECT count(*) FROM note_acknowledgements") == 0
    assert (
        await conn.fetchval("SELECT count(*) FROM outbox WHERE spoke_id <> $1", loop.spoke.id) == 0
    )


async def test_another_consultant_cannot_write_the_note(
    client: TestClient, network: Network, loop: Loop
) -> None:
    stranger = network.consultant_headers(loop.consultant_id + 999)
    response = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=stranger,
    )
    assert response.status == 404
    by_clinic = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.spoke.headers,
    )
    assert by_clinic.status == 403
