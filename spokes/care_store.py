"""SQL for one patient's record: the e-consults and signed consult notes about them.

Every query names the patient's spoke, so another clinic's patient has no record here.
"""

from __future__ import annotations

import uuid

import asyncpg

from consults.note_store import Note
from consults.store import Econsult

_ECONSULT_COLUMNS = """
    id, spoke_id, patient_id, service_id, referring_clinician, question, clinical_context,
    urgency, status, consultant_id, booking_id, submitted_at, due_at, paused_at, answered_at,
    closed_at, created_by, visit_booking_id
"""
_NOTE_COLUMNS = """
    n.id, n.econsult_id, n.booking_id, n.group_seat_id, n.recommendation_id, n.spoke_id,
    n.patient_id, n.consultant_id, n.version,
    n.sections, n.created_at, n.updated_at, n.signed_at, n.signed_by,
    a.acknowledged_at, a.acknowledged_by
"""


async def econsults_of(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID
) -> list[Econsult]:
    """The patient's e-consults, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_ECONSULT_COLUMNS} FROM econsults
        WHERE spoke_id = $1 AND patient_id = $2
        ORDER BY submitted_at DESC, id DESC
        """,
        spoke_id,
        patient_id,
    )
    return [Econsult(**dict(r)) for r in rows]


async def signed_notes_of(
    conn: asyncpg.Connection, spoke_id: int, patient_id: uuid.UUID
) -> list[Note]:
    """Every signed version of the patient's consult notes, newest signature first."""
    rows = await conn.fetch(
        f"""
        SELECT {_NOTE_COLUMNS}
        FROM consult_notes n LEFT JOIN note_acknowledgements a ON a.note_id = n.id
        WHERE n.spoke_id = $1 AND n.patient_id = $2 AND n.signed_at IS NOT NULL
        ORDER BY n.signed_at DESC, n.id DESC
        """,
        spoke_id,
        patient_id,
    )
    return [Note(**dict(r)) for r in rows]
