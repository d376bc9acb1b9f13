"""`consent_store.covering` against each rule: kind, recipient, category, expiry in the
clinic's zone, revocation, and the newest signed consent winning."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from spokes import consent_store
from spokes.consent_store import Consent
from tests.factories import Network

# 1 March 2027, 15:00 UTC: still 1 March in Honolulu (05:00) and already 2 March in Tokyo.
NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
EVERY_BUT_COUNSELING = [
    "econsult_answer",
    "session_note",
    "group_session_note",
    "case_review_recommendation",
]


async def _consent(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID, **over: Any
) -> Consent:
    values: dict[str, Any] = dict(
        spoke_id=spoke_id,
        patient_id=patient_id,
        kind="tpo",
        recipient_spoke_ids=[spoke_id],
        other_recipients=[],
        disclose=EVERY_BUT_COUNSELING,
        purpose="Treatment, payment and health care operations",
        signed_on=date(2027, 2, 1),
        expires_on=None,
        recorded_by="user:1",
        recorded_at=NOW,
    )
    values.update(over)
    return await consent_store.insert(conn, **values)


async def _covering(
    conn: asyncpg.Connection, patient_id: uuid.UUID, to: int, category: Any, at: datetime = NOW
) -> Consent | None:
    return await consent_store.covering(
        conn, patient_id=patient_id, recipient_spoke_id=to, category=category, at=at
    )


async def test_a_tpo_consent_covers_its_recipient_and_categories_only(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke, other = await network.spoke(), await network.spoke()
    patient = await network.patient(spoke, consent=None)
    tpo = await _consent(conn, spoke.id, patient.id, disclose=["econsult_answer"])

    found = await _covering(conn, patient.id, spoke.id, "econsult_answer")
    assert found is not None and found.id == tpo.id
    assert found.form_size is None and found.recipient_spoke_ids == [spoke.id]
    assert await _covering(conn, patient.id, other.id, "econsult_answer") is None
    assert await _covering(conn, patient.id, spoke.id, "session_note") is None
    assert await _covering(conn, patient.id, spoke.id, "counseling_note") is None


async def test_counseling_notes_are_covered_only_by_a_counseling_consent(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=None)
    await _consent(conn, spoke.id, patient.id)
    assert await _covering(conn, patient.id, spoke.id, "counseling_note") is None

    counseling = await _consent(
        conn, spoke.id, patient.id, kind="counseling_notes", disclose=["counseling_note"]
    )
    found = await _covering(conn, patient.id, spoke.id, "counseling_note")
    assert found is not None and found.id == counseling.id
    # ... and a counseling consent never covers another kind of note.
    session = await _covering(conn, patient.id, spoke.id, "session_note")
    assert session is not None and session.kind == "tpo"


async def test_a_consent_is_in_force_by_the_clinics_own_date(
    conn: asyncpg.Connection, network: Network
) -> None:
    honolulu = await network.spoke(timezone="Pacific/Honolulu")
    tokyo = await network.spoke(timezone="Asia/Tokyo")
    in_honolulu = await network.patient(honolulu, consent=None)
    in_tokyo = await network.patient(tokyo, consent=None)
    # Both expire on 1 March: Honolulu is still on 1 March, Tokyo has moved to 2 March.
    await _consent(conn, honolulu.id, in_honolulu.id, expires_on=date(2027, 3, 1))
    await _consent(conn, tokyo.id, in_tokyo.id, expires_on=date(2027, 3, 1))
    assert await _covering(conn, in_honolulu.id, honolulu.id, "session_note") is not None
    assert await _covering(conn, in_tokyo.id, tokyo.id, "session_note") is None

    # Signed 2 March: already in force in Tokyo, not yet in Honolulu.
    late_h = await network.patient(honolulu, consent=None)
    late_t = await network.patient(tokyo, consent=None)
    await _consent(conn, honolulu.id, late_h.id, signed_on=date(2027, 3, 2))
    await _consent(conn, tokyo.id, late_t.id, signed_on=date(2027, 3, 2))
    assert await _covering(conn, late_h.id, honolulu.id, "session_note") is None
    assert await _covering(conn, late_t.id, tokyo.id, "session_note") is not None


async def test_a_revoked_consent_covers_nothing_from_the_moment_it_is_recorded(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=None)
    tpo = await _consent(conn, spoke.id, patient.id)
    revoked = await consent_store.mark_revoked(
        conn, tpo.id, revoked_on=date(2027, 3, 1), how="verbal", revoked_at=NOW, revoked_by="user:1"
    )
    assert revoked is not None and revoked.revoked_how == "verbal"
    assert await _covering(conn, patient.id, spoke.id, "econsult_answer") is None
    # Revoking twice changes nothing.
    again = await consent_store.mark_revoked(
        conn,
        tpo.id,
        revoked_on=date(2027, 3, 1),
        how="written",
        revoked_at=NOW,
        revoked_by="user:2",
    )
    assert again is None
    kept = await consent_store.get(conn, tpo.id)
    assert kept is not None and kept.revoked_how == "verbal" and kept.revoked_by == "user:1"


async def test_the_newest_signed_consent_covers_and_of_patient_lists_newest_first(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke, hub_side = await network.spoke(), await network.spoke()
    patient = await network.patient(spoke, consent=None)
    older = await _consent(
        conn,
        spoke.id,
        patient.id,
        signed_on=date(2027, 1, 5),
        recipient_spoke_ids=[spoke.id, hub_side.id],
    )
    newer = await _consent(
        conn,
        spoke.id,
        patient.id,
        kind="specific",
        purpose="Care coordination",
        signed_on=date(2027, 2, 9),
    )
    found = await _covering(conn, patient.id, spoke.id, "econsult_answer")
    assert found is not None and found.id == newer.id
    to_other = await _covering(conn, patient.id, hub_side.id, "econsult_answer")
    assert to_other is not None and to_other.id == older.id
    assert [c.id for c in await consent_store.of_patient(conn, patient.id)] == [newer.id, older.id]
    # Another patient's consents never cover this patient's notes.
    stranger = await network.patient(spoke, consent=None)
    assert await _covering(conn, stranger.id, spoke.id, "econsult_answer") is None
    assert await consent_store.of_patient(conn, stranger.id) == []


async def test_the_form_is_read_only_through_form_of(
    conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=None)
    tpo = await _consent(conn, spoke.id, patient.id)
    assert await consent_store.form_of(conn, tpo.id) is None
    pdf = b"%PDF-1.7\n" + b"x" * 100
    stored = await consent_store.store_form(
        conn, tpo.id, content_type="application/pdf", filename="consent.pdf", data=pdf
    )
    assert stored is not None and stored.form_size == len(pdf)
    form = await consent_store.form_of(conn, tpo.id)
    assert form is not None and form.data == pdf and form.content_type == "application/pdf"
    assert await consent_store.get(conn, uuid.uuid4()) is None
