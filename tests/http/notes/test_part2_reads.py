"""A clinic reads a note's body only under a consent in force (42 CFR part 2): every body it
gets through the API carries the notice, the consent's scope and the security labels, and
writes exactly one row of the accounting; a held note shows that it exists, what consent is
missing, and nothing of its body."""

from __future__ import annotations

import json
import uuid

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from consults import part2
from tests.factories import NOTE_SECTIONS, Network, draft_note, sign_note, signed_note
from tests.http.notes.part2_support import consent, disclosures, loop_without_consent
from tests.http.notes.support import Loop
from tests.http.problems import problem_of


@pytest.fixture
async def loop(client: TestClient, network: Network) -> Loop:
    """An e-consult loop for a patient with no consent on file (their notes are held)."""
    return await loop_without_consent(client, network)


async def _patient_of(conn: asyncpg.Connection, loop: Loop) -> uuid.UUID:
    patient_id: uuid.UUID = await conn.fetchval(
        "SELECT patient_id FROM econsults WHERE id = $1", uuid.UUID(loop.econsult_id)
    )
    return patient_id


async def test_a_note_without_consent_is_held_shown_without_its_body_and_not_accounted(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await signed_note(client, loop.hub, loop.econsult_id)
    headers = loop.spoke.headers

    one = await client.get(f"/api/v1/notes/{note['id']}", headers=headers)
    inbox = await client.get("/api/v1/notes", headers=headers)
    versions = await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=headers)
    acked = await client.post(f"/api/v1/notes/{note['id']}/acknowledge", headers=headers)

    shown = await one.json()
    assert one.status == 200
    assert shown["status"] == "held" and shown["sections"] is None and shown["part2"] is None
    assert "consent" in shown["waiting_for"]
    assert [n["id"] for n in (await inbox.json())["notes"]] == [note["id"]]
    assert [n["status"] for n in (await versions.json())["notes"]] == ["held"]
    for response in (one, inbox, versions):
        text = await response.text()
        assert NOTE_SECTIONS["assessment"] not in text
        assert NOTE_SECTIONS["follow_up"] not in text
    await problem_of(acked, 409)
    assert await conn.fetchval("SELECT count(*) FROM note_acknowledgements") == 0
    assert await disclosures(conn) == []


async def test_each_api_read_of_a_body_writes_one_accounting_row_with_the_part2_block(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    patient_id = await _patient_of(conn, loop)
    consent_id = await consent(
        conn, spoke_id=loop.spoke.id, patient_id=patient_id, other_recipients=("County Court",)
    )
    first = await signed_note(client, loop.hub, loop.econsult_id)
    amended = await signed_note(
        client, loop.hub, loop.econsult_id, {**NOTE_SECTIONS, "follow_up": "Re-consult in 2 weeks."}
    )
    rows_after_signing = len(await disclosures(conn))  # none: no webhook is configured
    headers = loop.spoke.headers

    one = await (await client.get(f"/api/v1/notes/{first['id']}", headers=headers)).json()
    assert len(await disclosures(conn)) == rows_after_signing + 1
    inbox = await (await client.get("/api/v1/notes", headers=headers)).json()
    assert len(await disclosures(conn)) == rows_after_signing + 3
    versions = await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=headers)
    ).json()
    rows = (await disclosures(conn))[rows_after_signing:]

    # The GET, then the inbox and the versions (each: both versions, in any order).
    by_read = [rows[:1], rows[1:3], rows[3:]]
    assert [sorted((r["note_id"], r["note_version"]) for r in read) for read in by_read] == [
        [(uuid.UUID(first["id"]), 1)],
        *[sorted([(uuid.UUID(first["id"]), 1), (uuid.UUID(amended["id"]), 2)])] * 2,
    ]
    assert {r["channel"] for r in rows} == {"api"}
    assert {r["consent_id"] for r in rows} == {consent_id}
    assert {r["recipient_spoke_id"] for r in rows} == {loop.spoke.id}
    assert {r["patient_id"] for r in rows} == {patient_id}
    assert {r["disclosed_by"] for r in rows} == {f"client:{loop.spoke.client_id}"}
    assert all(r["request_id"] for r in rows)
    for body in [one, *inbox["notes"], *versions["notes"]]:
        assert body["status"] == "signed" and body["waiting_for"] is None
        assert body["sections"]["assessment"] == NOTE_SECTIONS["assessment"]
        block = body["part2"]
        assert block["notice"] == part2.NOTICE
        assert block["consent"]["id"] == str(consent_id)
        assert block["consent"]["kind"] == "tpo"
        assert [r["name"] for r in block["consent"]["recipients"]] == [
            loop.spoke.name,
            "County Court",
        ]
        assert block["consent"]["expiry"] == "until revoked"
        assert block["consent"]["signed_on"] == "2027-02-01"
        assert "econsult_answer" in block["consent"]["covers"]
        assert [label["code"] for label in block["security_labels"]] == [
            code for _, code, _ in part2.SECURITY_LABELS
        ]


async def test_hub_reads_show_the_body_and_are_not_disclosures(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await signed_note(client, loop.hub, loop.econsult_id)  # held: no consent at all

    one = await (await client.get(f"/api/v1/notes/{note['id']}", headers=loop.hub)).json()
    inbox = await (await client.get("/api/v1/notes", headers=loop.hub)).json()

    assert one["status"] == "signed" and one["sections"]["assessment"]
    assert [n["sections"]["assessment"] for n in inbox["notes"]] == [NOTE_SECTIONS["assessment"]]
    assert await disclosures(conn) == []


async def test_a_disclosed_note_is_acknowledged_and_stays_acknowledgeable_after_revocation(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    patient_id = await _patient_of(conn, loop)
    consent_id = await consent(conn, spoke_id=loop.spoke.id, patient_id=patient_id)
    note = await signed_note(client, loop.hub, loop.econsult_id)
    read = await client.get(f"/api/v1/notes/{note['id']}", headers=loop.spoke.headers)
    assert read.status == 200
    await conn.execute(
        """
        UPDATE consents SET revoked_on = '2027-02-20', revoked_how = 'written',
                            revoked_at = now(), revoked_by = 'test'
        WHERE id = $1
        """,
        consent_id,
    )

    again = await (
        await client.get(f"/api/v1/notes/{note['id']}", headers=loop.spoke.headers)
    ).json()
    acked = await client.post(f"/api/v1/notes/{note['id']}/acknowledge", headers=loop.spoke.headers)

    assert again["status"] == "held" and again["sections"] is None
    assert acked.status == 200, await acked.text()
    assert (await acked.json())["acknowledged_at"] is not None
    assert len(await disclosures(conn)) == 1  # the read before the revocation only


async def test_a_note_of_another_clinic_is_not_read_and_not_accounted(
    client: TestClient, loop: Loop, network: Network, conn: asyncpg.Connection
) -> None:
    patient_id = await _patient_of(conn, loop)
    await consent(conn, spoke_id=loop.spoke.id, patient_id=patient_id)
    draft = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, draft["id"])
    other = await network.spoke()

    read = await client.get(f"/api/v1/notes/{draft['id']}", headers=other.headers)

    await problem_of(read, 404)
    assert await disclosures(conn) == []
    assert json.dumps(await read.json()).find(NOTE_SECTIONS["assessment"]) == -1
