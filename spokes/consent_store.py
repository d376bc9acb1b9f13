"""SQL for a patient's Part 2 consents: recorded by the patient's clinic (or the hub).

`covering` is THE one place the coverage rule is written: a consent covers a note of a
category for a recipient clinic iff it is in force (`consent_in_force`, dates in the clinic's
zone, not revoked), of a kind that can cover the category, names the recipient and discloses
the category. Everyone who sends, shows or releases a note asks it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from consults.part2 import NoteCategory, needed_kinds

_COLUMNS = """
    c.id, c.spoke_id, c.patient_id, c.kind, c.recipient_spoke_ids, c.other_recipients,
    c.disclose, c.purpose, c.signed_on, c.expires_on, c.recorded_by, c.recorded_at,
    c.revoked_on, c.revoked_how, c.revoked_at, c.revoked_by, c.form_type, c.form_name,
    octet_length(c.form) AS form_size
"""


@dataclass(frozen=True, slots=True)
class Consent:
    """A patient's written consent to disclose Part 2 records (never its form's bytes)."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    kind: str
    recipient_spoke_ids: list[int]
    other_recipients: list[str]
    disclose: list[str]
    purpose: str
    signed_on: date
    expires_on: date | None
    recorded_by: str
    recorded_at: datetime
    revoked_on: date | None
    revoked_how: str | None
    revoked_at: datetime | None
    revoked_by: str | None
    form_type: str | None
    form_name: str | None
    form_size: int | None


@dataclass(frozen=True, slots=True)
class Form:
    """A consent's signed form, as uploaded."""

    content_type: str
    filename: str
    data: bytes


def _consent(row: asyncpg.Record) -> Consent:
    return Consent(
        id=row["id"],
        spoke_id=row["spoke_id"],
        patient_id=row["patient_id"],
        kind=row["kind"],
        recipient_spoke_ids=list(row["recipient_spoke_ids"]),
        other_recipients=list(row["other_recipients"]),
        disclose=list(row["disclose"]),
        purpose=row["purpose"],
        signed_on=row["signed_on"],
        expires_on=row["expires_on"],
        recorded_by=row["recorded_by"],
        recorded_at=row["recorded_at"],
        revoked_on=row["revoked_on"],
        revoked_how=row["revoked_how"],
        revoked_at=row["revoked_at"],
        revoked_by=row["revoked_by"],
        form_type=row["form_type"],
        form_name=row["form_name"],
        form_size=row["form_size"],
    )


async def covering(
    conn: asyncpg.Connection,
    *,
    patient_id: uuid.UUID,
    recipient_spoke_id: int,
    category: NoteCategory,
    at: datetime,
) -> Consent | None:
    """The consent in force at `at` that lets a note of `category` go to the recipient clinic.

    The newest signed wins (then the newest recorded), so a scope shown with a note is the
    patient's latest word.
    """
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS}
          FROM consents c
         WHERE c.patient_id = $1
           AND $2::bigint = ANY (c.recipient_spoke_ids)
           AND $3::text = ANY (c.disclose)
           AND c.kind = ANY ($4::text[])
           AND consent_in_force(c.id, $5)
         ORDER BY c.signed_on DESC, c.recorded_at DESC, c.id
         LIMIT 1
        """,
        patient_id,
        recipient_spoke_id,
        category,
        list(needed_kinds(category)),
        at,
    )
    return None if row is None else _consent(row)


async def get(conn: asyncpg.Connection, consent_id: uuid.UUID) -> Consent | None:
    """One consent by id (callers check it is the caller's clinic's)."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM consents c WHERE c.id = $1", consent_id)
    return None if row is None else _consent(row)


async def get_for_update(conn: asyncpg.Connection, consent_id: uuid.UUID) -> Consent | None:
    """One consent, locked for a revocation or a form upload in this transaction."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM consents c WHERE c.id = $1 FOR UPDATE", consent_id
    )
    return None if row is None else _consent(row)


async def of_patient(conn: asyncpg.Connection, patient_id: uuid.UUID) -> list[Consent]:
    """A patient's consents, newest signed first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM consents c WHERE c.patient_id = $1
         ORDER BY c.signed_on DESC, c.recorded_at DESC, c.id
        """,
        patient_id,
    )
    return [_consent(r) for r in rows]


async def insert(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    kind: str,
    recipient_spoke_ids: list[int],
    other_recipients: list[str],
    disclose: list[str],
    purpose: str,
    signed_on: date,
    expires_on: date | None,
    recorded_by: str,
    recorded_at: datetime,
) -> Consent:
    """Record a consent as the patient signed it."""
    row = await conn.fetchrow(
        f"""
        WITH c AS (
            INSERT INTO consents (spoke_id, patient_id, kind, recipient_spoke_ids,
                                  other_recipients, disclose, purpose, signed_on, expires_on,
                                  recorded_by, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
            RETURNING *
        )
        SELECT {_COLUMNS} FROM c
        """,
        spoke_id,
        patient_id,
        kind,
        recipient_spoke_ids,
        other_recipients,
        disclose,
        purpose,
        signed_on,
        expires_on,
        recorded_by,
        recorded_at,
    )
    assert row is not None
    return _consent(row)


async def mark_revoked(
    conn: asyncpg.Connection,
    consent_id: uuid.UUID,
    *,
    revoked_on: date,
    how: str,
    revoked_at: datetime,
    revoked_by: str,
) -> Consent | None:
    """Record a revocation; None if the consent was already revoked (nothing changes)."""
    row = await conn.fetchrow(
        f"""
        WITH c AS (
            UPDATE consents
               SET revoked_on = $2, revoked_how = $3, revoked_at = $4, revoked_by = $5
             WHERE id = $1 AND revoked_at IS NULL
            RETURNING *
        )
        SELECT {_COLUMNS} FROM c
        """,
        consent_id,
        revoked_on,
        how,
        revoked_at,
        revoked_by,
    )
    return None if row is None else _consent(row)


async def store_form(
    conn: asyncpg.Connection,
    consent_id: uuid.UUID,
    *,
    content_type: str,
    filename: str,
    data: bytes,
) -> Consent | None:
    """Keep the signed form (replacing an earlier upload of it)."""
    row = await conn.fetchrow(
        f"""
        WITH c AS (
            UPDATE consents SET form = $2, form_type = $3, form_name = $4
             WHERE id = $1
            RETURNING *
        )
        SELECT {_COLUMNS} FROM c
        """,
        consent_id,
        data,
        content_type,
        filename,
    )
    return None if row is None else _consent(row)


async def form_of(conn: asyncpg.Connection, consent_id: uuid.UUID) -> Form | None:
    """The signed form's bytes, or None when none was uploaded."""
    row = await conn.fetchrow(
        "SELECT form, form_type, form_name FROM consents WHERE id = $1 AND form IS NOT NULL",
        consent_id,
    )
    if row is None:
        return None
    return Form(content_type=row["form_type"], filename=row["form_name"], data=bytes(row["form"]))
