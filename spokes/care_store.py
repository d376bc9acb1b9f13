"""SQL for one patient's record: the e-consults about them (their notes: consults.note_store).

Every query names the patient's spoke, so another clinic's patient has no record here.
"""

from __future__ import annotations

import uuid

import asyncpg

from consults.store import Econsult

_ECONSULT_COLUMNS = """
    id, spoke_id, patient_id, service_id, referring_clinician, question, clinical_context,
    urgency, status, consultant_id, booking_id, submitted_at, due_at, paused_at, answered_at,
    closed_at, created_by, visit_booking_id
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
