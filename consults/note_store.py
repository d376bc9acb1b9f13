"""SQL for consult notes and their acknowledgements. The schema refuses edits to signed notes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

NoteKind = Literal["consult", "counseling"]

_COLUMNS = """
    n.id, n.econsult_id, n.booking_id, n.group_seat_id, n.recommendation_id, n.spoke_id,
    n.patient_id, n.consultant_id, n.version,
    n.sections, n.created_at, n.updated_at, n.signed_at, n.signed_by,
    a.acknowledged_at, a.acknowledged_by, n.kind
"""
_FROM = "consult_notes n LEFT JOIN note_acknowledgements a ON a.note_id = n.id"


class DraftExists(Exception):
    """The subject already has a draft note."""


class NoteIsSigned(Exception):
    """The note is signed: the database refused to change it."""


@dataclass(frozen=True, slots=True)
class Note:
    """One version of a consult note about an e-consult, a booked session, one patient's
    seat in a group session, or a consultant's recommendation from a systematic case review."""

    id: uuid.UUID
    econsult_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    group_seat_id: uuid.UUID | None
    spoke_id: int
    patient_id: uuid.UUID
    consultant_id: int
    version: int
    sections: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    signed_at: datetime | None
    signed_by: str | None
    acknowledged_at: datetime | None
    acknowledged_by: str | None
    # Last with a default: spokes/care_store.py builds notes from its own column list.
    recommendation_id: uuid.UUID | None = None
    # 'consult', or 'counseling' (a session's or a group seat's note the counselor marks as
    # counseling notes: disclosed only under a counseling_notes consent).
    kind: NoteKind = "consult"


@dataclass(frozen=True, slots=True)
class NoteScope:
    """Which notes a caller may see: a spoke's, a consultant's, or (both None) all."""

    spoke_id: int | None = None
    consultant_id: int | None = None


@dataclass(frozen=True, slots=True)
class Subject:
    """What a note is about: exactly one of an e-consult, a booking, a patient's seat in a
    group session (the note of a group is per attending patient, about that patient alone), or
    one patient's recommendation from a systematic case review."""

    econsult_id: uuid.UUID | None = None
    booking_id: uuid.UUID | None = None
    group_seat_id: uuid.UUID | None = None
    recommendation_id: uuid.UUID | None = None

    @classmethod
    def of(cls, note: Note) -> Subject:
        """What this note is about."""
        return cls(note.econsult_id, note.booking_id, note.group_seat_id, note.recommendation_id)


async def insert_draft(
    conn: asyncpg.Connection,
    subject: Subject,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    consultant_id: int,
    sections: dict[str, Any],
    kind: NoteKind | None = None,
) -> Note:
    """Start the next version of the subject's note as a draft. Its kind is `kind`, or
    (None) the kind of the chain's newest version ('consult' for a first version)."""
    try:
        async with conn.transaction():
            note_id = await conn.fetchval(
                """
                INSERT INTO consult_notes (econsult_id, booking_id, group_seat_id,
                                           recommendation_id, spoke_id, patient_id,
                                           consultant_id, version, sections, kind)
                SELECT $1, $2, $7, $8, $3, $4, $5, coalesce(max(version), 0) + 1, $6,
                       coalesce($9::text,
                                (array_agg(kind ORDER BY version DESC))[1], 'consult')
                FROM consult_notes
                WHERE ($1::uuid IS NOT NULL AND econsult_id = $1)
                   OR ($2::uuid IS NOT NULL AND booking_id = $2)
                   OR ($7::uuid IS NOT NULL AND group_seat_id = $7)
                   OR ($8::uuid IS NOT NULL AND recommendation_id = $8)
                RETURNING id
                """,
                subject.econsult_id,
                subject.booking_id,
                spoke_id,
                patient_id,
                consultant_id,
                sections,
                subject.group_seat_id,
                subject.recommendation_id,
                kind,
            )
    except asyncpg.UniqueViolationError:
        raise DraftExists from None
    note = await get_note(conn, note_id, NoteScope())
    assert note is not None
    return note


async def update_draft(
    conn: asyncpg.Connection,
    note_id: uuid.UUID,
    sections: dict[str, Any],
    kind: NoteKind | None = None,
) -> None:
    """Replace a draft's sections (and its kind, unless None); NoteIsSigned if it was signed
    meanwhile."""
    try:
        async with conn.transaction():
            await conn.execute(
                """
                UPDATE consult_notes SET sections = $2, kind = coalesce($3, kind),
                                         updated_at = now()
                WHERE id = $1
                """,
                note_id,
                sections,
                kind,
            )
    except asyncpg.IntegrityConstraintViolationError:
        raise NoteIsSigned from None


async def sign(conn: asyncpg.Connection, note_id: uuid.UUID, *, by: str, at: datetime) -> None:
    """Sign a draft; from now on the database refuses any change to it."""
    try:
        async with conn.transaction():
            await conn.execute(
                """
                UPDATE consult_notes SET signed_at = $3, signed_by = $2, updated_at = now()
                WHERE id = $1
                """,
                note_id,
                by,
                at,
            )
    except asyncpg.IntegrityConstraintViolationError:
        raise NoteIsSigned from None


async def get_note(
    conn: asyncpg.Connection, note_id: uuid.UUID, scope: NoteScope, *, lock: bool = False
) -> Note | None:
    """One note version, if the caller may see it."""
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM {_FROM}
        WHERE n.id = $1 AND ($2::bigint IS NULL OR n.spoke_id = $2)
          AND ($3::bigint IS NULL OR n.consultant_id = $3)
        {"FOR UPDATE OF n" if lock else ""}
        """,
        note_id,
        scope.spoke_id,
        scope.consultant_id,
    )
    return Note(**dict(row)) if row else None


async def notes_about(conn: asyncpg.Connection, subject: Subject) -> list[Note]:
    """Every version of the subject's note, oldest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM {_FROM}
        WHERE ($1::uuid IS NOT NULL AND n.econsult_id = $1)
           OR ($2::uuid IS NOT NULL AND n.booking_id = $2)
           OR ($3::uuid IS NOT NULL AND n.group_seat_id = $3)
           OR ($4::uuid IS NOT NULL AND n.recommendation_id = $4)
        ORDER BY n.version
        """,
        subject.econsult_id,
        subject.booking_id,
        subject.group_seat_id,
        subject.recommendation_id,
    )
    return [Note(**dict(r)) for r in rows]


async def list_signed(
    conn: asyncpg.Connection,
    scope: NoteScope,
    *,
    acknowledged: bool | None,
    limit: int,
) -> list[Note]:
    """Signed notes the caller may see, oldest signature first (the inbox order)."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM {_FROM}
        WHERE n.signed_at IS NOT NULL
          AND ($1::bigint IS NULL OR n.spoke_id = $1)
          AND ($2::bigint IS NULL OR n.consultant_id = $2)
          AND ($3::boolean IS NULL OR (a.note_id IS NOT NULL) = $3)
        ORDER BY n.signed_at, n.id
        LIMIT $4
        """,
        scope.spoke_id,
        scope.consultant_id,
        acknowledged,
        limit,
    )
    return [Note(**dict(r)) for r in rows]


async def acknowledge(
    conn: asyncpg.Connection, note_id: uuid.UUID, *, by: str, at: datetime
) -> bool:
    """Record the clinic's acknowledgement; False if it was acknowledged before."""
    inserted = await conn.fetchval(
        """
        INSERT INTO note_acknowledgements (note_id, acknowledged_by, acknowledged_at)
        VALUES ($1, $2, $3)
        ON CONFLICT (note_id) DO NOTHING RETURNING true
        """,
        note_id,
        by,
        at,
    )
    return bool(inserted)


async def signed_for_patient(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID
) -> list[Note]:
    """Every signed version of the patient's consult notes, newest signature first."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM {_FROM}
        WHERE n.spoke_id = $1 AND n.patient_id = $2 AND n.signed_at IS NOT NULL
        ORDER BY n.signed_at DESC, n.version DESC, n.id DESC
        """,
        spoke_id,
        patient_id,
    )
    return [Note(**dict(r)) for r in rows]
