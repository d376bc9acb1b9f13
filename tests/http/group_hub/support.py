"""A group with seats taken by patients of two clinics, written as rows (the shape migration
017 gives them), so that the hub's roster, attendance and note tests need nothing else."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
from asyncpg import Range

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import Network, SpokeUser

# The clock is Mon 1 Mar 2027 15:00 UTC: a group starting here has begun its first session.
STARTED = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)

NOTE = {
    "sections.assessment": "Engaged in the group; reports 3 weeks without opioid use.",
    "sections.recommendations.therapy": "Keep attending weekly; practise the craving plan.",
    "sections.recommendations.moud": "",
    "sections.recommendations.medications": "",
    "sections.recommendations.referrals": "",
    "sections.follow_up": "Next group next Monday.",
}


@dataclass
class Group:
    """A counselor's weekly group, its occurrences, and who holds seats."""

    id: uuid.UUID
    service: Service
    counselor: Consultant
    occurrences: list[uuid.UUID]
    clinics: list[SpokeUser]
    patients: list[Patient]  # patients[i] is a patient of clinics[i % len(clinics)]
    enrolments: list[uuid.UUID] = field(default_factory=list)


async def seat_rows(
    conn: asyncpg.Connection, occurrence_id: uuid.UUID
) -> dict[uuid.UUID, asyncpg.Record]:
    """The occurrence's seats as stored, by enrolment."""
    rows = await conn.fetch(
        "SELECT id, enrolment_id, attendance, recorded_by FROM group_seats"
        " WHERE occurrence_id = $1",
        occurrence_id,
    )
    return {r["enrolment_id"]: r for r in rows}


async def group(
    network: Network,
    *,
    first_start: datetime,
    count: int = 3,
    capacity: int = 8,
    patients_per_clinic: int = 2,
    title: str = "MOUD support group · Mondays",
    family_names: tuple[str, ...] = ("Okafor", "Lindqvist", "Moreau", "Tanaka"),
) -> Group:
    """A weekly 60-minute group of a counselor, with seats for patients of two clinics."""
    service = await network.service(
        kind="group_session", duration_minutes=60, roles=["telehealth_counselor"]
    )
    counselor = await network.consultant([service], role="telehealth_counselor")
    clinics = [await network.spoke(), await network.spoke()]
    patients = [
        await network.patient(clinics[i % 2], family_name=family_names[i % len(family_names)])
        for i in range(2 * patients_per_clinic)
    ]
    async with network.pool.acquire() as conn, conn.transaction():
        group_id = await conn.fetchval(
            """
            INSERT INTO groups (service_id, consultant_id, title, capacity, repeat, count,
                                first_start, zone, created_by)
            VALUES ($1, $2, $3, $4, 'weekly', $5, $6, 'America/Los_Angeles', 'test')
            RETURNING id
            """,
            service.id,
            counselor.id,
            title,
            capacity,
            count,
            first_start,
        )
        occurrences = []
        for position in range(1, count + 1):
            start = first_start + timedelta(weeks=position - 1)
            period = Range(start, start + timedelta(hours=1))
            occurrences.append(
                await conn.fetchval(
                    """
                    INSERT INTO group_occurrences (group_id, position, consultant_id, period,
                                                   blocked, capacity)
                    VALUES ($1, $2, $3, $4, $4, $5) RETURNING id
                    """,
                    group_id,
                    position,
                    counselor.id,
                    period,
                    capacity,
                )
            )
        made = Group(group_id, service, counselor, occurrences, clinics, patients)
        for n, patient in enumerate(patients, start=1):
            enrolment = await conn.fetchval(
                """
                INSERT INTO group_enrolments (group_id, spoke_id, patient_id, from_position,
                                              created_by)
                VALUES ($1, $2, $3, 1, 'test') RETURNING id
                """,
                group_id,
                patient.spoke_id,
                patient.id,
            )
            made.enrolments.append(enrolment)
            for occurrence in occurrences:
                await conn.execute(
                    """
                    INSERT INTO group_seats (occurrence_id, enrolment_id, spoke_id, patient_id,
                                             seat_no, capacity)
                    VALUES ($1, $2, $3, $4, $5, $6)
                    """,
                    occurrence,
                    enrolment,
                    patient.spoke_id,
                    patient.id,
                    n,
                    capacity,
                )
    return made
