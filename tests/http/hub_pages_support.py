"""A signed-in consultant with a clinic and a patient, for the tests of the consultant's pages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import time

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import Network, SpokeUser, econsult, page_csrf, sign_in


@dataclass(frozen=True)
class Desk:
    """A consultant in Los Angeles (e-consults and video, Monday 09-12), signed in."""

    consultant: Consultant
    econsult_service: Service
    video: Service
    spoke: SpokeUser
    patient: Patient


async def consultant_desk(client: TestClient, network: Network) -> Desk:
    """Set up and sign in the consultant of a `Desk`."""
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=40, roles=["psychiatric_consultant"]
    )
    video = await network.service(duration_minutes=60)
    consultant = await network.consultant(
        [econsult_service, video], hours=((0, time(9), time(12)),), timezone="America/Los_Angeles"
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke, family_name="Okafor")
    email, password = await network.user("consultant", consultant_id=consultant.id)
    assert (await sign_in(client, email, password)).status == 303
    return Desk(consultant, econsult_service, video, spoke, patient)


async def ask(client: TestClient, desk: Desk) -> str:
    """An e-consult from the clinic, assigned to the desk's consultant; its id."""
    asked = await econsult(
        client, desk.spoke, patient_id=desk.patient.id, service_id=desk.econsult_service.id
    )
    return str(asked["id"])


async def post(client: TestClient, path: str, data: dict[str, str], page: str) -> ClientResponse:
    """A form post with the CSRF token of the page the form is on."""
    token = await page_csrf(client, page)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


async def note_rows(conn: asyncpg.Connection, econsult_id: str) -> list[asyncpg.Record]:
    """The e-consult's note versions as stored."""
    return await conn.fetch(
        "SELECT id, version, sections, signed_at FROM consult_notes "
        "WHERE econsult_id = $1 ORDER BY version",
        uuid.UUID(econsult_id),
    )
