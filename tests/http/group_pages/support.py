"""What the clinic's group page tests share: two clinics, a counselor's weekly group, and
helpers to fill it through the real domain functions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling import group_seats, groups
from scheduling.groups import Group
from scheduling.groups_schemas import GroupIn
from scheduling.store import Service
from spokes.store import Patient
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.factories import Clock, Network, SpokeUser, page_csrf, sign_in

NEW_YORK = ZoneInfo("America/New_York")
# Tuesdays 18:00 in New York, from the day after the tests' clock (Mon 1 Mar 2027 15:00 UTC).
FIRST = datetime(2027, 3, 2, 18, 0, tzinfo=NEW_YORK)
HUB = Caller("hub_admin", "test-hub", KIND_SCOPES["hub_admin"])
TRAIL = Trail("test")


@dataclass
class Scene:
    """Clinic A (signed in as its scheduler) and clinic B, both in Vermont, a New York
    counselor's weekly group of `capacity` seats, and a patient of each clinic."""

    mine: SpokeUser
    theirs: SpokeUser
    patient: Patient  # clinic A's
    outsider: Patient  # clinic B's: clinic A must never see them
    service: Service
    counselor: Consultant
    group: Group
    csrf: str


async def scene(
    client: TestClient, network: Network, clock: Clock, *, capacity: int = 2, count: int = 3
) -> Scene:
    """Two clinics, a weekly group of `capacity` seats, clinic A's scheduler signed in."""
    service = await network.service(
        kind="group_session",
        name="Group counseling",
        duration_minutes=60,
        roles=["telehealth_counselor"],
    )
    counselor = await network.consultant(
        [service], timezone="America/New_York", states=("VT", "NY"), role="telehealth_counselor"
    )
    mine = await network.spoke(state="VT", timezone="America/New_York")
    theirs = await network.spoke(state="VT", timezone="America/New_York")
    patient = await network.patient(mine, family_name="Quimby")
    outsider = await network.patient(theirs, family_name="Outsiderson")
    made = await make_group(network, clock, service, counselor, capacity=capacity, count=count)
    email, password = await network.user("spoke_scheduler", spoke_id=mine.id)
    assert (await sign_in(client, email, password)).status == 303
    csrf = await page_csrf(client, "/spoke")
    return Scene(mine, theirs, patient, outsider, service, counselor, made, csrf)


async def make_group(
    network: Network,
    clock: Clock,
    service: Service,
    counselor: Consultant,
    *,
    capacity: int,
    count: int,
    title: str = "MOUD support group · Tuesdays 18:00",
    first: datetime = FIRST,
) -> Group:
    """A weekly group made by the hub through groups.create."""
    body = GroupIn(
        service_id=service.id,
        consultant_id=counselor.id,
        title=title,
        capacity=capacity,
        first_start=first,
        repeat="weekly",
        count=count,
    )
    async with network.pool.acquire() as conn, conn.transaction():
        return await groups.create(conn, HUB, TRAIL, body, clock.now)


def clinic_caller(spoke: SpokeUser) -> Caller:
    """The clinic's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


async def enrol(
    network: Network, clock: Clock, spoke: SpokeUser, patient: Patient, group: Group
) -> uuid.UUID:
    """A seat for a clinic's patient in every session to come; the enrolment's id."""
    async with network.pool.acquire() as conn, conn.transaction():
        made = await group_seats.enrol(
            conn, clinic_caller(spoke), TRAIL, group.id, patient.id, None, clock.now
        )
    return made.id


async def seats_held(conn: asyncpg.Connection, patient: Patient) -> list[tuple[int, str]]:
    """A patient's seats by session: (position, attendance)."""
    rows = await conn.fetch(
        "SELECT o.position, s.attendance FROM group_seats s"
        " JOIN group_occurrences o ON o.id = s.occurrence_id"
        " WHERE s.patient_id = $1 ORDER BY o.position",
        patient.id,
    )
    return [(r["position"], r["attendance"]) for r in rows]
