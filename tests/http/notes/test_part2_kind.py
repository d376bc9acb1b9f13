"""Counseling notes: a kind the counselor chooses for a session's (or a group seat's) note,
refused elsewhere at the `kind` field; an amendment keeps its chain's kind unless the
counselor gives another; disclosed only under a counseling_notes consent."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from consults import notes
from consults.note_store import Subject
from telehub.errors import ValidationFailed
from tests.factories import NOTE_SECTIONS, Network, sign_note
from tests.http.notes.part2_support import consent, disclosures, loop_without_consent
from tests.http.notes.support import Loop
from tests.http.problems import problem_of


@pytest.fixture
async def loop(client: TestClient, network: Network) -> Loop:
    """An e-consult loop for a patient with no consent on file (their notes are held)."""
    return await loop_without_consent(client, network)


async def _booking(client: TestClient, loop: Loop, conn: asyncpg.Connection) -> dict[str, Any]:
    patient_id = await conn.fetchval("SELECT patient_id FROM econsults")
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": loop.video_service_id,
            "consultant_id": loop.consultant_id,
            "patient_id": str(patient_id),
            "start": "2027-03-08T09:00:00-08:00",
        },
        headers={**loop.spoke.headers, "Idempotency-Key": "counseling-session"},
    )
    assert booked.status == 201, await booked.text()
    return dict(await booked.json())


async def _draft(
    client: TestClient, loop: Loop, path: str, kind: str | None
) -> tuple[int, dict[str, Any]]:
    body: dict[str, Any] = {"sections": NOTE_SECTIONS}
    if kind is not None:
        body["kind"] = kind
    response = await client.post(path, json=body, headers=loop.hub)
    return response.status, dict(await response.json())


async def test_counseling_is_refused_for_an_econsult_answer_naming_kind(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    response = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS, "kind": "counseling"},
        headers=loop.hub,
    )

    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["kind"]
    assert await conn.fetchval("SELECT count(*) FROM consult_notes") == 0


async def test_an_unknown_kind_is_refused_naming_kind(client: TestClient, loop: Loop) -> None:
    response = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS, "kind": "psychotherapy"},
        headers=loop.hub,
    )

    problem = await problem_of(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["kind"]


def test_counseling_is_refused_for_a_recommendation_and_allowed_for_sessions() -> None:
    with pytest.raises(ValidationFailed) as refused:
        notes._check_kind(Subject(recommendation_id=uuid.uuid4()), "counseling")
    assert [e.field for e in refused.value.errors] == ["kind"]
    notes._check_kind(Subject(booking_id=uuid.uuid4()), "counseling")
    notes._check_kind(Subject(group_seat_id=uuid.uuid4()), "counseling")
    notes._check_kind(Subject(recommendation_id=uuid.uuid4()), "consult")


async def test_an_econsult_note_is_a_consult_note_by_default(
    client: TestClient, loop: Loop
) -> None:
    status, note = await _draft(client, loop, f"/api/v1/econsults/{loop.econsult_id}/notes", None)
    assert (status, note["kind"]) == (201, "consult")


async def test_an_amendment_keeps_its_chains_kind_unless_another_is_given(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    booking = await _booking(client, loop, conn)
    path = f"/api/v1/bookings/{booking['id']}/notes"

    status, first = await _draft(client, loop, path, "counseling")
    assert (status, first["kind"]) == (201, "counseling")
    await sign_note(client, loop.hub, first["id"])
    _, kept = await _draft(client, loop, path, None)
    edited = await client.put(
        f"/api/v1/notes/{kept['id']}", json={"sections": NOTE_SECTIONS}, headers=loop.hub
    )
    assert kept["kind"] == "counseling" and (await edited.json())["kind"] == "counseling"
    changed = await client.put(
        f"/api/v1/notes/{kept['id']}",
        json={"sections": NOTE_SECTIONS, "kind": "consult"},
        headers=loop.hub,
    )
    assert (await changed.json())["kind"] == "consult"
    await sign_note(client, loop.hub, kept["id"])
    _, third = await _draft(client, loop, path, None)

    assert third["kind"] == "consult"
    kinds = await conn.fetch("SELECT version, kind FROM consult_notes ORDER BY version")
    assert [(r["version"], r["kind"]) for r in kinds] == [
        (1, "counseling"),
        (2, "consult"),
        (3, "consult"),
    ]


async def test_a_counseling_note_is_held_under_tpo_and_disclosed_under_its_own_consent(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    booking = await _booking(client, loop, conn)
    patient_id = uuid.UUID(booking["patient_id"])
    await consent(conn, spoke_id=loop.spoke.id, patient_id=patient_id)  # tpo, session notes
    _, draft = await _draft(client, loop, f"/api/v1/bookings/{booking['id']}/notes", "counseling")
    await sign_note(client, loop.hub, draft["id"])
    path = f"/api/v1/notes/{draft['id']}"

    held = await (await client.get(path, headers=loop.spoke.headers)).json()
    assert held["status"] == "held" and held["sections"] is None
    assert "counseling" in held["waiting_for"]
    assert await disclosures(conn) == []

    counseling = await consent(
        conn,
        spoke_id=loop.spoke.id,
        patient_id=patient_id,
        kind="counseling_notes",
        disclose=("counseling_note",),
    )
    shown = await (await client.get(path, headers=loop.spoke.headers)).json()

    assert shown["status"] == "signed" and shown["kind"] == "counseling"
    assert shown["sections"]["assessment"] == NOTE_SECTIONS["assessment"]
    assert shown["part2"]["consent"]["id"] == str(counseling)
    assert shown["part2"]["consent"]["kind"] == "counseling_notes"
    assert [(r["consent_id"], r["channel"]) for r in await disclosures(conn)] == [
        (counseling, "api")
    ]
