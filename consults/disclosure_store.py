"""SQL for the Part 2 gate: held note events, their release and withholding, and the
append-only accounting of disclosures (migration 021)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import asyncpg


@dataclass(frozen=True, slots=True)
class HeldNote:
    """A signed note version waiting for the patient's consent: what the clinic may know of
    it (never its body) and what is missing, in words."""

    note_id: uuid.UUID
    version: int
    patient_id: uuid.UUID
    signed_at: datetime
    held_at: datetime
    missing: str


@dataclass(frozen=True, slots=True)
class NoteEvent:
    """An undelivered note event the gate is about to re-decide, locked by the caller."""

    id: int
    note_id: uuid.UUID


async def insert_note_event(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    note_id: uuid.UUID,
    event_type: str,
    payload: dict[str, Any],
    consent_id: uuid.UUID | None,
    held_reason: str | None,
) -> str:
    """Add a note's event, under its consent or held with the reason; return its webhook-id.

    A held row is not due: the outbox trigger (migration 021) notifies nobody for it.
    """
    webhook_id = "msg_" + uuid.uuid4().hex
    await conn.execute(
        """
        INSERT INTO outbox (webhook_id, spoke_id, event_type, payload, note_id, consent_id,
                            held_at, held_reason)
        VALUES ($1, $2, $3, $4, $5, $6,
                CASE WHEN $7::text IS NULL THEN NULL ELSE now() END, $7)
        """,
        webhook_id,
        spoke_id,
        event_type,
        payload,
        note_id,
        consent_id,
        held_reason,
    )
    return webhook_id


async def lock_patient(conn: asyncpg.Connection, patient_id: uuid.UUID) -> None:
    """Take the patient's turn at the gate until the transaction ends: a note's signing and a
    consent's recording (or revocation) for one patient run one after the other, so a note
    held at signing is always seen by a release that could cover it. (NO KEY UPDATE: other
    rows may still reference the patient meanwhile.)"""
    await conn.execute("SELECT 1 FROM patients WHERE id = $1 FOR NO KEY UPDATE", patient_id)


async def lock_held_of_patient(
    conn: asyncpg.Connection, *, spoke_id: int, patient_id: uuid.UUID
) -> list[NoteEvent]:
    """The patient's held note events, locked, in signing order. A concurrent release that
    committed first leaves them unheld: the re-check after the lock skips them."""
    rows = await conn.fetch(
        """
        SELECT o.id, o.note_id FROM outbox o JOIN consult_notes n ON n.id = o.note_id
        WHERE o.spoke_id = $1 AND n.patient_id = $2
          AND o.held_at IS NOT NULL AND o.delivered_at IS NULL
        ORDER BY n.signed_at, n.version, o.id
        FOR UPDATE OF o
        """,
        spoke_id,
        patient_id,
    )
    return [NoteEvent(r["id"], r["note_id"]) for r in rows]


async def lock_pending_under(conn: asyncpg.Connection, consent_id: uuid.UUID) -> list[NoteEvent]:
    """Undelivered, unheld, unleased events sent under a consent, locked, in signing order.
    A leased one (being sent now) is left to finish."""
    rows = await conn.fetch(
        """
        SELECT o.id, o.note_id FROM outbox o JOIN consult_notes n ON n.id = o.note_id
        WHERE o.consent_id = $1 AND o.delivered_at IS NULL AND o.held_at IS NULL
          AND (o.leased_until IS NULL OR o.leased_until <= now())
        ORDER BY n.signed_at, n.version, o.id
        FOR UPDATE OF o
        """,
        consent_id,
    )
    return [NoteEvent(r["id"], r["note_id"]) for r in rows]


async def route(
    conn: asyncpg.Connection,
    event_id: int,
    *,
    consent_id: uuid.UUID,
    payload: dict[str, Any],
    order: int,
) -> None:
    """Send a (held or re-routed) event under a consent: due now, after the ones before it
    (`order` microseconds), so the worker claims a patient's notes in signing order."""
    await conn.execute(
        """
        UPDATE outbox SET consent_id = $2, payload = $3, held_at = NULL, held_reason = NULL,
            failed_at = NULL,
            next_attempt_at = now() + make_interval(secs => $4::double precision / 1000000)
        WHERE id = $1
        """,
        event_id,
        consent_id,
        payload,
        order,
    )


async def lapsed_consents(
    conn: asyncpg.Connection, spoke_ids: list[int], *, at: datetime
) -> list[uuid.UUID]:
    """Consents no longer in force with undelivered, unheld, unleased events of these clinics."""
    rows = await conn.fetch(
        """
        SELECT DISTINCT o.consent_id FROM outbox o
        WHERE o.spoke_id = ANY ($1::bigint[]) AND o.consent_id IS NOT NULL
          AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.held_at IS NULL
          AND (o.leased_until IS NULL OR o.leased_until <= $2)
          AND NOT consent_in_force(o.consent_id, $2)
        """,
        spoke_ids,
        at,
    )
    return [r["consent_id"] for r in rows]


async def hold(conn: asyncpg.Connection, event_id: int, reason: str) -> None:
    """Keep an event back until a consent covers it (never sent, never lost)."""
    await conn.execute(
        "UPDATE outbox SET held_at = now(), held_reason = $2 WHERE id = $1 AND held_at IS NULL",
        event_id,
        reason[:500],
    )


async def insert_disclosure(
    conn: asyncpg.Connection,
    *,
    note_id: uuid.UUID,
    note_version: int,
    patient_id: uuid.UUID,
    spoke_id: int,
    recipient_spoke_id: int,
    channel: str,
    consent_id: uuid.UUID,
    actor: str,
    request_id: str | None,
) -> None:
    """One row of the accounting of disclosures."""
    await conn.execute(
        """
        INSERT INTO disclosures (note_id, note_version, patient_id, spoke_id,
            recipient_spoke_id, channel, consent_id, disclosed_by, request_id)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        """,
        note_id,
        note_version,
        patient_id,
        spoke_id,
        recipient_spoke_id,
        channel,
        consent_id,
        actor,
        request_id,
    )


async def held_notes(
    conn: asyncpg.Connection, *, spoke_id: int, patient_id: uuid.UUID | None
) -> list[HeldNote]:
    """A clinic's held notes (of one patient, or all), in signing order."""
    rows = await conn.fetch(
        """
        SELECT n.id AS note_id, n.version, n.patient_id, n.signed_at, o.held_at,
               o.held_reason AS missing
        FROM outbox o JOIN consult_notes n ON n.id = o.note_id
        WHERE o.spoke_id = $1 AND o.held_at IS NOT NULL
          AND ($2::uuid IS NULL OR n.patient_id = $2)
        ORDER BY n.signed_at, n.version, o.id
        """,
        spoke_id,
        patient_id,
    )
    return [HeldNote(**dict(r)) for r in rows]


async def spoke_names(conn: asyncpg.Connection, spoke_ids: list[int]) -> dict[int, str]:
    """Clinic names by id, for a consent's scope."""
    rows = await conn.fetch("SELECT id, name FROM spokes WHERE id = ANY ($1::bigint[])", spoke_ids)
    return {r["id"]: r["name"] for r in rows}


async def note_kind(conn: asyncpg.Connection, note_id: uuid.UUID) -> str:
    """A note's kind ('consult' or 'counseling')."""
    kind = await conn.fetchval("SELECT kind FROM consult_notes WHERE id = $1", note_id)
    return str(kind or "consult")
