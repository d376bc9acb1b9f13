"""The clinic's page reads of notes under Part 2, through the domain the pages call: a note
page ("page") or its print view ("print") discloses the body and writes one accounting row
naming that channel; a listing (no channel) discloses nothing and carries no clinical text;
and the accounting's 3-year window."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from consults import accounting, notes, part2
from consults.disclosure import Channel
from consults.note_store import Subject
from telehub.audit import Trail
from tests.factories import NOTE_SECTIONS, Network, clinic_caller, econsult, signed_note

NOW = datetime(2027, 3, 1, 15, tzinfo=UTC)


async def _answered(
    client: TestClient, network: Network, *, consent: str | None
) -> tuple[int, uuid.UUID, uuid.UUID]:
    """A clinic's e-consult answered by a signed note: (spoke id, econsult id, note id)."""
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=consent)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=service.id)
    note = await signed_note(
        client,
        network.consultant_headers(consultant.id),
        asked["id"],
        {**NOTE_SECTIONS, "visit_recommended": True},
    )
    return spoke.id, uuid.UUID(asked["id"]), uuid.UUID(note["id"])


async def _rows(conn: asyncpg.Connection) -> list[tuple[uuid.UUID, str, str, str | None]]:
    rows = await conn.fetch(
        "SELECT note_id, channel, disclosed_by, request_id FROM disclosures ORDER BY id"
    )
    return [(r["note_id"], r["channel"], r["disclosed_by"], r["request_id"]) for r in rows]


@pytest.mark.parametrize("channel", ["page", "print"])
async def test_a_note_page_or_print_discloses_once_under_its_channel(
    client: TestClient, network: Network, conn: asyncpg.Connection, channel: Channel
) -> None:
    spoke_id, _, note_id = await _answered(client, network, consent="tpo")
    caller = clinic_caller(spoke_id)
    trail = Trail(caller.actor, "req-page")

    shown = await notes.get(conn, caller, trail, note_id, channel=channel, now=NOW)

    assert isinstance(shown, notes.Shown) and not shown.held
    assert shown.sections["assessment"] == NOTE_SECTIONS["assessment"]
    assert shown.part2 is not None and shown.part2["notice"] == part2.NOTICE
    assert await _rows(conn) == [(note_id, channel, caller.actor, "req-page")]


async def test_a_listing_discloses_nothing_and_keeps_only_the_visit_flag(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke_id, econsult_id, note_id = await _answered(client, network, consent="tpo")
    caller = clinic_caller(spoke_id)
    trail = Trail(caller.actor)

    listed = await notes.versions(conn, caller, trail, Subject(econsult_id=econsult_id), now=NOW)
    waiting = await notes.inbox(conn, caller, trail, acknowledged=False, limit=10, now=NOW)

    assert [n.id for n in listed] == [note_id] and [n.id for n in waiting] == [note_id]
    for note in listed + waiting:
        assert isinstance(note, notes.Shown) and not note.held and note.part2 is None
        assert note.sections == {"visit_recommended": True}
    assert await _rows(conn) == []


async def test_a_held_note_page_shows_no_body_and_discloses_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke_id, _, note_id = await _answered(client, network, consent=None)
    caller = clinic_caller(spoke_id)

    shown = await notes.get(conn, caller, Trail(caller.actor), note_id, now=NOW)

    assert isinstance(shown, notes.Shown) and shown.held
    assert shown.sections == {} and shown.part2 is None
    assert shown.waiting_for and "consent" in shown.waiting_for
    assert await _rows(conn) == []


@pytest.mark.parametrize(
    ("since", "today", "expected"),
    [
        (None, date(2027, 3, 1), accounting.Window(date(2024, 3, 1), clipped=False)),
        (date(2024, 3, 1), date(2027, 3, 1), accounting.Window(date(2024, 3, 1), clipped=False)),
        (date(2024, 2, 29), date(2027, 3, 1), accounting.Window(date(2024, 3, 1), clipped=True)),
        (date(2026, 1, 5), date(2027, 3, 1), accounting.Window(date(2026, 1, 5), clipped=False)),
        (None, date(2028, 2, 29), accounting.Window(date(2025, 3, 1), clipped=False)),
    ],
)
def test_the_window_is_3_years_and_clips_an_earlier_since(
    since: date | None, today: date, expected: accounting.Window
) -> None:
    assert accounting.window(since, today) == expected
