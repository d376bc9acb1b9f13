"""Consents for the Part 2 note tests, written straight to PostgreSQL (the consent API is
another part's; these tests are about reading notes under a consent)."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network, econsult
from tests.http.notes.support import Loop


async def consent(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    kind: str = "tpo",
    disclose: tuple[str, ...] = ("econsult_answer", "session_note", "group_session_note"),
    recipients: tuple[int, ...] | None = None,
    signed_on: date = date(2027, 2, 1),
    expires_on: date | None = None,
    other_recipients: tuple[str, ...] = (),
) -> uuid.UUID:
    """A consent of the patient's, recorded by their clinic; its id."""
    consent_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO consents (spoke_id, patient_id, kind, recipient_spoke_ids, other_recipients,
                              disclose, purpose, signed_on, expires_on, recorded_by)
        VALUES ($1, $2, $3, $4, $5, $6, 'Continuing treatment', $7, $8, 'test')
        RETURNING id
        """,
        spoke_id,
        patient_id,
        kind,
        list(recipients or (spoke_id,)),
        list(other_recipients),
        list(disclose),
        signed_on,
        expires_on,
    )
    return consent_id


async def disclosures(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every row of the accounting, oldest first."""
    rows = await conn.fetch("SELECT * FROM disclosures ORDER BY id")
    return [dict(r) for r in rows]


async def loop_without_consent(client: TestClient, network: Network) -> Loop:
    """The notes tests' e-consult loop (conftest.py `loop`), for a patient with no consent on
    file: every note of theirs is held until one is recorded."""
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    video = await network.service(duration_minutes=60)
    consultant = await network.consultant(
        [econsult_service, video], hours=((0, time(9), time(12)),)
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=None)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=econsult_service.id)
    result = Loop()
    result.spoke, result.econsult_id = spoke, asked["id"]
    result.consultant_id = consultant.id
    result.hub = network.consultant_headers(consultant.id)
    result.video_service_id = video.id
    return result
