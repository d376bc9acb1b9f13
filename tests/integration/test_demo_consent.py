"""The demo tells the Part 2 story through the real gate: consents on file before the notes
they cover, one patient without consent whose note is held, one who revoked, one with a
counseling-notes consent and a counseling note queued under it; every other note goes (or
went) to its clinic under a consent."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from consults import delivery_store, disclosure
from spokes import consent_store
from telehub import demo
from telehub.settings import Settings
from tests.factories import Clock


@pytest.fixture
async def network(conn: asyncpg.Connection, settings: Settings, clock: Clock) -> dict[str, Any]:
    """The demo network, seeded at the test clock's now (Monday 1 March 2027)."""
    return await demo.seed(conn, settings, now=clock.now, authenticators=False)


def _first(network: dict[str, Any]) -> dict[str, Any]:
    return dict(network["spokes"][0])


async def _note_events(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every signed note of the demo with its outbox event (if any) and its patient."""
    return list(
        await conn.fetch(
            """
            SELECT n.id AS note_id, n.version, n.kind, n.spoke_id, n.patient_id, n.signed_at,
                   o.id AS event_id, o.consent_id, o.held_at, o.held_reason, o.delivered_at
              FROM consult_notes n LEFT JOIN outbox o ON o.note_id = n.id
             WHERE n.signed_at IS NOT NULL
             ORDER BY n.signed_at
            """
        )
    )


async def test_the_json_names_each_clinics_held_note_patient(
    network: dict[str, Any],
) -> None:
    first, *others = network["spokes"]
    assert uuid.UUID(first["part2"]["held_note_patient_id"])
    assert all(c["part2"]["held_note_patient_id"] is None for c in others)


async def test_the_patient_without_consent_has_a_held_note_that_was_never_disclosed(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    clinic = _first(network)
    patient_id = uuid.UUID(clinic["part2"]["held_note_patient_id"])

    assert await consent_store.of_patient(conn, patient_id) == []
    [held] = [e for e in await _note_events(conn) if e["patient_id"] == patient_id]
    assert held["event_id"] is not None  # kept in the outbox, never dropped
    assert held["held_at"] is not None and held["held_reason"]
    assert held["consent_id"] is None and held["delivered_at"] is None
    disclosed = await conn.fetchval(
        "SELECT count(*) FROM disclosures WHERE note_id = $1", held["note_id"]
    )
    assert disclosed == 0
    # The clinic's dashboard and the hub's deliveries page read it from here.
    waiting = await disclosure.held_notes(conn, spoke_id=clinic["id"], patient_id=patient_id)
    assert [h.note_id for h in waiting] == [held["note_id"]]


async def test_the_revoked_consent_was_revoked_weeks_ago_and_the_next_note_is_held(
    conn: asyncpg.Connection, network: dict[str, Any], clock: Clock
) -> None:
    clinic = _first(network)
    patient_id = uuid.UUID(clinic["part2"]["revoked_consent_patient_id"])
    today = clock.now.astimezone(ZoneInfo(clinic["timezone"])).date()

    [consent] = await consent_store.of_patient(conn, patient_id)
    assert consent.kind == "tpo" and consent.revoked_at is not None
    assert consent.revoked_on is not None and consent.revoked_on <= today - timedelta(weeks=3)
    assert consent.signed_on < consent.revoked_on
    [note] = [e for e in await _note_events(conn) if e["patient_id"] == patient_id]
    assert note["signed_at"] > consent.revoked_at
    assert note["held_at"] is not None and note["consent_id"] is None
    waiting = await disclosure.held_notes(conn, spoke_id=clinic["id"], patient_id=patient_id)
    assert [h.note_id for h in waiting] == [note["note_id"]]


async def test_a_counseling_note_is_queued_under_the_patients_counseling_notes_consent(
    conn: asyncpg.Connection, network: dict[str, Any], clock: Clock
) -> None:
    clinic = _first(network)
    patient_id = uuid.UUID(clinic["part2"]["counseling_consent_patient_id"])

    kinds = {c.kind: c for c in await consent_store.of_patient(conn, patient_id)}
    assert set(kinds) == {"tpo", "counseling_notes"}
    counseling = kinds["counseling_notes"]
    assert counseling.disclose == ["counseling_note"] and counseling.revoked_at is None
    [note] = [
        e
        for e in await _note_events(conn)
        if e["patient_id"] == patient_id and e["kind"] == "counseling"
    ]
    assert note["held_at"] is None and note["consent_id"] == counseling.id
    covering = await consent_store.covering(
        conn,
        patient_id=patient_id,
        recipient_spoke_id=clinic["id"],
        category="counseling_note",
        at=clock.now,
    )
    assert covering is not None and covering.id == counseling.id


async def test_every_other_demo_note_goes_to_its_clinic_under_a_consent_recorded_before_it(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    story = _first(network)["part2"]
    held_patients = {
        uuid.UUID(story["held_note_patient_id"]),
        uuid.UUID(story["revoked_consent_patient_id"]),
    }
    events = await _note_events(conn)
    others = [e for e in events if e["patient_id"] not in held_patients]
    # E-consult answers of every clinic, the registry's recommendations, the counseling note.
    assert len(others) >= len(network["spokes"]) * 2
    assert {e["spoke_id"] for e in others} == {c["id"] for c in network["spokes"]}
    for event in others:
        assert event["event_id"] is not None, event["note_id"]
        assert event["held_at"] is None, (event["note_id"], event["held_reason"])
        consent = await consent_store.get(conn, event["consent_id"])
        assert consent is not None and consent.patient_id == event["patient_id"]
        assert event["spoke_id"] in consent.recipient_spoke_ids
        # Consents before the notes they cover: signed and recorded before the note.
        assert consent.recorded_at <= event["signed_at"]
        assert await conn.fetchval(
            "SELECT consent_in_force($1, $2)", consent.id, event["signed_at"]
        )
    held = [e for e in events if e["held_at"] is not None]
    assert {e["patient_id"] for e in held} == held_patients


async def test_the_hubs_deliveries_show_the_held_notes_with_what_is_missing(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    events = {e["event_id"]: e for e in await _note_events(conn)}
    shown = await delivery_store.list_deliveries(conn, state="held", spoke_id=None, limit=100)
    story = _first(network)["part2"]
    assert {events[d.id]["patient_id"] for d in shown} == {
        uuid.UUID(story["held_note_patient_id"]),
        uuid.UUID(story["revoked_consent_patient_id"]),
    }
    assert all(d.state == "held" and d.held_reason for d in shown)


async def test_most_demo_patients_have_a_tpo_consent_until_revoked(
    conn: asyncpg.Connection, network: dict[str, Any]
) -> None:
    patients = await conn.fetchval("SELECT count(*) FROM patients")
    with_tpo = await conn.fetch(
        "SELECT patient_id, expires_on FROM consents WHERE kind = 'tpo' AND revoked_at IS NULL"
    )
    assert len({r["patient_id"] for r in with_tpo}) == patients - 2
    assert all(r["expires_on"] is None for r in with_tpo)
