"""The Part 2 gate: a signed note leaves the hub only under a consent in force that covers
its clinic and its kind (42 CFR part 2).

At signing, `gate` queues the note's event under the covering consent (its payload carries
the Part 2 block: the notice, the consent's scope, the security labels) or inserts it HELD
with what is missing, in words. A held event is kept, shown (`held_notes`), never sent, and
released by `release_held` when a consent that covers it is recorded, exactly once and in
signing order. `withhold_for` (a revocation) re-routes the consent's undelivered, unleased
events to another covering consent in force, or holds them. The worker's claim
(delivery_store.claim_due) holds anything whose consent stopped being in force since.

Every disclosure to a clinic writes one row of the accounting (`record_disclosure`; the
webhook's in delivery_store.mark_delivered). The coverage rule itself lives once, in
spokes.consent_store.covering.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Literal

import asyncpg
import structlog

from consults import disclosure_store, note_store, part2
from consults.disclosure_store import HeldNote
from consults.note_store import Note, NoteScope
from spokes import consent_store
from spokes import store as spokes_store
from spokes.consent_store import Consent

log = structlog.get_logger(__name__)

__all__ = [
    "Channel",
    "Gated",
    "HeldNote",
    "category_of",
    "gate",
    "held_notes",
    "missing_for",
    "note_event",
    "part2_block",
    "permit",
    "record_disclosure",
    "release_held",
    "withhold_for",
    "withhold_lapsed",
]

Channel = Literal["webhook", "api", "page", "print", "export", "fhir"]

# The consent kinds in words, as the scope and the held reasons name them.
KIND_WORDS: Mapping[str, str] = {
    "tpo": "treatment, payment and health care operations",
    "specific": "a specific purpose",
    "counseling_notes": "counseling notes",
}
CATEGORY_WORDS: Mapping[str, str] = {
    "econsult_answer": "e-consult answers",
    "session_note": "session notes",
    "group_session_note": "group session notes",
    "case_review_recommendation": "case review recommendations",
    "counseling_note": "counseling notes",
}


@dataclass(frozen=True, slots=True)
class Gated:
    """What the gate did with a signed note's event: its webhook-id, and whether it is held
    (and what is missing, in words)."""

    webhook_id: str
    held: bool
    missing: str | None


def category_of(note: Note, kind: str | None = None) -> part2.NoteCategory:
    """A note's category: a counseling note is one whatever its subject; otherwise by what it
    is about. An amendment has its note's category. `kind` is the note's kind when the Note
    at hand does not carry it."""
    if (kind or getattr(note, "kind", "consult")) == "counseling":
        return "counseling_note"
    if note.econsult_id is not None:
        return "econsult_answer"
    if note.booking_id is not None:
        return "session_note"
    if note.group_seat_id is not None:
        return "group_session_note"
    if note.recommendation_id is not None:
        return "case_review_recommendation"
    raise ValueError("a note is about an e-consult, a booking, a group seat or a recommendation")


async def _category(conn: asyncpg.Connection, note: Note) -> part2.NoteCategory:
    # The kind as stored: a Note built from another read model may not carry it.
    return category_of(note, await disclosure_store.note_kind(conn, note.id))


def missing_for(category: part2.NoteCategory) -> str:
    """What is missing when no consent covers a note of this category, in words."""
    if category == "counseling_note":
        return "no counseling-notes consent in force"
    return (
        "no consent for treatment, payment and operations in force"
        f" that covers {CATEGORY_WORDS[category]}"
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def part2_block(consent: Consent, recipient_names: Mapping[int, str]) -> dict[str, Any]:
    """The Part 2 block every disclosed note carries: the notice, the scope of the consent it
    goes under, and the security labels. The scope names no patient and no clinical content."""
    recipients: list[dict[str, Any]] = [
        {"spoke_id": sid, "name": recipient_names.get(sid, f"clinic {sid}")}
        for sid in consent.recipient_spoke_ids
    ]
    recipients += [{"spoke_id": None, "name": name} for name in consent.other_recipients]
    return {
        "notice": part2.NOTICE,
        "consent": {
            "id": str(consent.id),
            "kind": consent.kind,
            "kind_words": KIND_WORDS.get(consent.kind, consent.kind),
            "recipients": recipients,
            "covers": list(consent.disclose),
            "covers_words": [CATEGORY_WORDS.get(c, c) for c in consent.disclose],
            "purpose": consent.purpose,
            "signed_on": _iso(consent.signed_on),
            "expires_on": _iso(consent.expires_on),
            "expiry": _iso(consent.expires_on) or "until revoked",
        },
        "security_labels": part2.security_labels(),
    }


async def _block(conn: asyncpg.Connection, consent: Consent) -> dict[str, Any]:
    names = await disclosure_store.spoke_names(conn, list(consent.recipient_spoke_ids))
    return part2_block(consent, names)


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


def note_event(
    note: Note, *, base_url: str, full: bool, part2_scope: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The event for a signed note: identifiers and links, the Part 2 block it goes under
    (`data.part2`: the notice, the consent's scope, the security labels: no clinical
    content), plus the note itself on the spoke's opt-in."""
    data: dict[str, Any] = {
        "note_id": str(note.id),
        "version": note.version,
        "spoke_id": note.spoke_id,
        "patient_id": str(note.patient_id),
        "econsult_id": str(note.econsult_id) if note.econsult_id else None,
        "booking_id": str(note.booking_id) if note.booking_id else None,
        "signed_at": _utc(note.signed_at),
        "links": {
            "note": f"{base_url}/api/v1/notes/{note.id}",
            "acknowledge": f"{base_url}/api/v1/notes/{note.id}/acknowledge",
        },
    }
    # The newer subjects are named only on their own notes, so an e-consult's or a booking's
    # event keeps the keys its receivers already read.
    if note.group_seat_id:
        data["group_seat_id"] = str(note.group_seat_id)
    if note.recommendation_id:
        data["recommendation_id"] = str(note.recommendation_id)
    if part2_scope is not None:
        data["part2"] = part2_scope
    if full:
        data["note"] = {"consultant_id": note.consultant_id, "sections": note.sections}
    return {
        "type": "note.signed" if note.version == 1 else "note.amended",
        "timestamp": _utc(note.signed_at),
        "data": data,
    }


async def _payload(
    conn: asyncpg.Connection, note: Note, consent: Consent | None, *, base_url: str
) -> dict[str, Any]:
    """The event as it will be sent under `consent`; a held event's payload (rebuilt when it
    is released) carries no note body and no scope."""
    if consent is None:
        return note_event(note, base_url=base_url, full=False)
    return note_event(
        note,
        base_url=base_url,
        full=await _webhook_full(conn, note.spoke_id),
        part2_scope=await _block(conn, consent),
    )


async def _webhook_full(conn: asyncpg.Connection, spoke_id: int) -> bool:
    webhook = await spokes_store.get_webhook(conn, spoke_id)
    return bool(webhook and webhook.full_payload)


async def permit(
    conn: asyncpg.Connection, note: Note, *, recipient_spoke_id: int, now: datetime
) -> Consent | None:
    """The consent a note may be disclosed to this clinic under now, or None (held)."""
    return await consent_store.covering(
        conn,
        patient_id=note.patient_id,
        recipient_spoke_id=recipient_spoke_id,
        category=await _category(conn, note),
        at=now,
    )


async def gate(conn: asyncpg.Connection, note: Note, *, base_url: str, now: datetime) -> Gated:
    """Queue a signed note's event for its clinic under the covering consent, or hold it; in
    the signing transaction. Called wherever a signed note goes out."""
    await disclosure_store.lock_patient(conn, note.patient_id)
    category = await _category(conn, note)
    consent = await consent_store.covering(
        conn,
        patient_id=note.patient_id,
        recipient_spoke_id=note.spoke_id,
        category=category,
        at=now,
    )
    event = await _payload(conn, note, consent, base_url=base_url)
    missing = None if consent is not None else missing_for(category)
    webhook_id = await disclosure_store.insert_note_event(
        conn,
        spoke_id=note.spoke_id,
        note_id=note.id,
        event_type=event["type"],
        payload=event,
        consent_id=consent.id if consent else None,
        held_reason=missing,
    )
    if missing is not None:
        log.info("note.held", note_id=str(note.id), spoke_id=note.spoke_id, category=category)
    return Gated(webhook_id, missing is not None, missing)


async def _reroute(
    conn: asyncpg.Connection,
    events: list[disclosure_store.NoteEvent],
    *,
    base_url: str,
    now: datetime,
    not_under: uuid.UUID | None,
    reason: str | None,
) -> int:
    """Send each event under the consent covering it now; hold (with `reason`) the rest
    when a reason is given. Returns how many were routed."""
    routed = 0
    for event in events:
        note = await note_store.get_note(conn, event.note_id, NoteScope())
        assert note is not None
        consent = await permit(conn, note, recipient_spoke_id=note.spoke_id, now=now)
        if consent is not None and consent.id != not_under:
            payload = await _payload(conn, note, consent, base_url=base_url)
            await disclosure_store.route(
                conn, event.id, consent_id=consent.id, payload=payload, order=routed
            )
            routed += 1
        elif reason is not None:
            await disclosure_store.hold(conn, event.id, reason)
    return routed


async def release_held(
    conn: asyncpg.Connection, *, spoke_id: int, patient_id: uuid.UUID, base_url: str, now: datetime
) -> int:
    """Send the patient's held notes that a consent now covers, in signing order, in the
    caller's (consent-recording) transaction; return how many. Exactly once even when two
    consents are recorded at once: the held rows are locked, and a release that committed
    first leaves nothing held for the other, and a note being signed meanwhile is either
    seen here held or sees this consent (the patient's turn at the gate)."""
    await disclosure_store.lock_patient(conn, patient_id)
    events = await disclosure_store.lock_held_of_patient(
        conn, spoke_id=spoke_id, patient_id=patient_id
    )
    released = await _reroute(conn, events, base_url=base_url, now=now, not_under=None, reason=None)
    if released:
        log.info(
            "notes.released",
            spoke_id=spoke_id,
            released=released,
            still_held=len(events) - released,
        )
    return released


async def withhold_for(
    conn: asyncpg.Connection, consent_id: uuid.UUID, *, base_url: str, now: datetime
) -> int:
    """After a revocation (recorded in the caller's transaction first): each undelivered,
    unleased event under that consent goes under another covering consent in force, or is
    held. Returns how many were held. An event being sent now (leased) may finish."""
    consent = await consent_store.get(conn, consent_id)
    if consent is None:
        return 0
    reason = lapsed_reason(consent)
    await disclosure_store.lock_patient(conn, consent.patient_id)
    events = await disclosure_store.lock_pending_under(conn, consent_id)
    routed = await _reroute(
        conn, events, base_url=base_url, now=now, not_under=consent_id, reason=reason
    )
    held = len(events) - routed
    if events:
        log.info("notes.withheld", spoke_id=consent.spoke_id, held=held, rerouted=routed)
    return held


def lapsed_reason(consent: Consent) -> str:
    """Why a consent no longer lets its notes go, in words (as delivery_store.LAPSED_REASON)."""
    if consent.revoked_on is not None:
        return f"consent revoked on {consent.revoked_on.isoformat()}"
    if consent.expires_on is not None:
        return f"consent expired after {consent.expires_on.isoformat()}"
    return "consent not in force"


async def withhold_lapsed(
    conn: asyncpg.Connection, spoke_ids: list[int], *, base_url: str, now: datetime
) -> int:
    """The worker's sweep before it claims: events of these clinics queued under a consent
    that expired (or was revoked) since go under another covering consent, or are held.
    Returns how many were held. (The claim itself holds any that lapse in between.)"""
    held = 0
    for consent_id in await disclosure_store.lapsed_consents(conn, spoke_ids, at=now):
        # One patient's turn at a time: two workers sweeping never wait on each other in turn.
        async with conn.transaction():
            held += await withhold_for(conn, consent_id, base_url=base_url, now=now)
    return held


async def record_disclosure(
    conn: asyncpg.Connection,
    *,
    note: Note,
    consent_id: uuid.UUID,
    recipient_spoke_id: int,
    channel: Channel,
    actor: str,
    request_id: str | None,
) -> None:
    """Account for one disclosure of a note version to a clinic (42 CFR 2.24)."""
    await disclosure_store.insert_disclosure(
        conn,
        note_id=note.id,
        note_version=note.version,
        patient_id=note.patient_id,
        spoke_id=note.spoke_id,
        recipient_spoke_id=recipient_spoke_id,
        channel=channel,
        consent_id=consent_id,
        actor=actor,
        request_id=request_id,
    )


async def held_notes(
    conn: asyncpg.Connection, *, spoke_id: int, patient_id: uuid.UUID | None = None
) -> list[HeldNote]:
    """A clinic's notes waiting for consent (of one patient, or all): no body, the missing
    consent in words, in signing order."""
    return await disclosure_store.held_notes(conn, spoke_id=spoke_id, patient_id=patient_id)
