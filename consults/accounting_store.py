"""SQL for the accounting of disclosures (42 CFR 2.24): reading the `disclosures` rows the
gate and the clinic's reads write, with the words a person needs (clinic, consent, who)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class DisclosureRow:
    """One disclosure of one version of a patient's note: what, to whom, how, under which
    consent, when, and by whom (`by_name`: the person's name when the actor is a person)."""

    id: int
    note_id: uuid.UUID
    note_version: int
    patient_id: uuid.UUID
    recipient_spoke_id: int
    recipient_name: str
    channel: str
    consent_id: uuid.UUID
    consent_kind: str
    disclosed_at: datetime
    disclosed_by: str
    by_name: str | None
    request_id: str | None


async def of_patient(
    conn: asyncpg.Connection, patient_id: uuid.UUID, *, since: datetime
) -> list[DisclosureRow]:
    """The patient's disclosures at or after `since`, newest first."""
    rows = await conn.fetch(
        """
        SELECT d.id, d.note_id, d.note_version, d.patient_id, d.recipient_spoke_id,
               s.name AS recipient_name, d.channel, d.consent_id, c.kind AS consent_kind,
               d.disclosed_at, d.disclosed_by, u.name AS by_name, d.request_id
          FROM disclosures d
          JOIN spokes s ON s.id = d.recipient_spoke_id
          JOIN consents c ON c.id = d.consent_id
          LEFT JOIN users u ON d.disclosed_by = 'user:' || u.id::text
         WHERE d.patient_id = $1 AND d.disclosed_at >= $2
         ORDER BY d.disclosed_at DESC, d.id DESC
        """,
        patient_id,
        since,
    )
    return [DisclosureRow(**dict(r)) for r in rows]


async def was_disclosed(
    conn: asyncpg.Connection, note_id: uuid.UUID, recipient_spoke_id: int
) -> bool:
    """Whether this note version was ever disclosed to the clinic (by any channel)."""
    return bool(
        await conn.fetchval(
            "SELECT EXISTS (SELECT 1 FROM disclosures WHERE note_id = $1 "
            "AND recipient_spoke_id = $2)",
            note_id,
            recipient_spoke_id,
        )
    )


async def spoke_names(conn: asyncpg.Connection, spoke_ids: Sequence[int]) -> dict[int, str]:
    """Clinic names by id (a consent's recipients, for its scope)."""
    rows = await conn.fetch(
        "SELECT id, name FROM spokes WHERE id = ANY ($1::bigint[])", list(spoke_ids)
    )
    return {r["id"]: r["name"] for r in rows}
