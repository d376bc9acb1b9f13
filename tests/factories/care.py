"""Registry factories: care managers, episodes, measures and contacts, written through the
real domain functions (care/registry.py) so every rule and audit row applies."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from care import registry
from care.store import Contact, Episode, Measure
from hub.store import Consultant
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.users import User, create_user
from tests.factories.network import Network, SpokeUser

BASE_URL = "http://telehub.test"
# Answers that total a score: PHQ-9 item 9 (the last) is 0 unless asked.
PHQ9_QUIET = [0] * 9
GAD7_QUIET = [0] * 7


def clinic_caller(spoke: SpokeUser | int) -> Caller:
    """A clinic's system as a caller of the domain."""
    spoke_id = spoke if isinstance(spoke, int) else spoke.id
    return Caller("spoke", f"test-spoke-{spoke_id}", KIND_SCOPES["spoke"], spoke_id)


def hub_caller() -> Caller:
    """A hub administrator as a caller of the domain."""
    return Caller("hub_admin", "test-hub", KIND_SCOPES["hub_admin"])


TRAIL = Trail("client:test-factory")


def phq9(total: int, *, item9: int = 0) -> list[int]:
    """PHQ-9 answers adding up to `total`, with item 9 as given (total >= item9)."""
    return _answers(9, total, last=item9)


def gad7(total: int) -> list[int]:
    """GAD-7 answers adding up to `total`."""
    return _answers(7, total, last=None)


def _answers(count: int, total: int, *, last: int | None) -> list[int]:
    items = [0] * count
    rest = total
    if last is not None:
        items[-1] = last
        rest -= last
    fill = count - 1 if last is not None else count
    for i in range(fill):
        items[i] = min(3, rest)
        rest -= items[i]
    if rest != 0:
        raise ValueError(f"cannot make {total} from {count} answers")
    return items


async def care_manager(
    network: Network, spoke: SpokeUser | int, *, name: str = "Casey Manager"
) -> User:
    """A care manager user of the clinic (with a password; no second factor)."""
    spoke_id = spoke if isinstance(spoke, int) else spoke.id
    async with network.pool.acquire() as conn:
        return await create_user(
            conn,
            email=f"cm-{uuid.uuid4().hex[:10]}@telehub.test",
            name=name,
            role="care_manager",
            password="correct horse battery staple",
            spoke_id=spoke_id,
        )


async def enrol(
    conn: asyncpg.Connection,
    spoke: SpokeUser | int,
    patient_id: uuid.UUID,
    *,
    care_manager_id: int,
    consultant_id: int,
    started_on: date,
    now: datetime,
    program: str = "collaborative_care",
    treating_clinician: str = "Dr. Treating",
) -> Episode:
    """Open an episode through the domain, as the clinic."""
    return await registry.enrol(
        conn,
        clinic_caller(spoke),
        TRAIL,
        patient_id,
        program=program,
        care_manager_id=care_manager_id,
        treating_clinician=treating_clinician,
        consultant_id=consultant_id,
        started_on=started_on,
        now=now,
    )


async def measure(
    conn: asyncpg.Connection,
    episode: Episode,
    kind: str,
    measured_on: date,
    *,
    now: datetime,
    items: Sequence[int] | None = None,
    **fields: Any,
) -> Measure:
    """Record a measure through the domain, as the episode's clinic."""
    return await registry.record_measure(
        conn,
        clinic_caller(episode.spoke_id),
        TRAIL,
        episode.id,
        kind=kind,
        measured_on=measured_on,
        items=items,
        base_url=BASE_URL,
        now=now,
        **fields,
    )


async def contact(
    conn: asyncpg.Connection,
    episode: Episode,
    contact_on: date,
    *,
    now: datetime,
    minutes: int = 20,
    kind: str = "phone",
    who: str = "patient",
    counts: bool = True,
) -> Contact:
    """Record a contact through the domain, as the episode's clinic."""
    return await registry.record_contact(
        conn,
        clinic_caller(episode.spoke_id),
        TRAIL,
        episode.id,
        contact_on=contact_on,
        minutes=minutes,
        kind=kind,
        who=who,
        counts=counts,
        now=now,
    )


@dataclass(frozen=True)
class CareClinic:
    """A clinic ready for the registry: its API user, a care manager, a hub consultant."""

    spoke: SpokeUser
    care_manager: User
    consultant: Consultant


async def care_clinic(
    network: Network,
    *,
    consultant: Consultant | None = None,
    role: str = "psychiatric_consultant",
    timezone: str = "America/New_York",
) -> CareClinic:
    """A clinic with a care manager, and a consultant (a new one of `role` unless given)."""
    spoke = await network.spoke(timezone=timezone)
    manager = await care_manager(network, spoke)
    if consultant is None:
        consultant = await network.consultant([], role=role)
    return CareClinic(spoke, manager, consultant)


# --- for API tests ---------------------------------------------------------------------------

REGISTRY_TABLES = ("episodes", "care_measures", "care_contacts", "outbox")


async def registry_counts(pool: asyncpg.Pool) -> dict[str, int]:
    """How many rows each registry table (and the outbox) holds: "nothing written" checks."""
    async with pool.acquire() as conn:
        return {t: await conn.fetchval(f"SELECT count(*) FROM {t}") for t in REGISTRY_TABLES}


def enrolment(clinic: CareClinic, **fields: Any) -> dict[str, Any]:
    """A valid enrolment body (collaborative care from 1 February 2027), fields replaced."""
    body: dict[str, Any] = {
        "program": "collaborative_care",
        "care_manager_id": clinic.care_manager.id,
        "treating_clinician": "Dr. Ada Treat",
        "consultant_id": clinic.consultant.id,
        "started_on": "2027-02-01",
    }
    body.update(fields)
    return body


async def enrolled(
    client: TestClient, network: Network, clinic: CareClinic | None = None, **fields: Any
) -> tuple[CareClinic, dict[str, Any]]:
    """A clinic (new unless given) and one of its patients enrolled through the API."""
    clinic = clinic or await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    response = await client.post(
        f"/api/v1/patients/{patient.id}/episodes",
        json=enrolment(clinic, **fields),
        headers=clinic.spoke.headers,
    )
    assert response.status == 201, await response.text()
    return clinic, await response.json()


def fields_named(problem: dict[str, Any]) -> list[str]:
    """The fields a problem+json names."""
    return [e["field"] for e in problem.get("errors", [])]


async def cover_registry(api: Any, network: Network) -> None:
    """Drives every registry core operation once (enrol, list, read, measures of each kind, a
    contact, the caseload, close), for the OpenAPI contract test
    (tests/http/test_response_schemas.py), which checks each answer against the document.
    Needs the clock on 1 March 2027 (the test's fixture)."""
    addiction = await network.consultant([], role="addiction_medicine_specialist")
    clinic = await care_clinic(network, consultant=addiction)
    h = clinic.spoke.headers
    patient = {"id": (await network.patient(clinic.spoke)).id}
    episode = await api.call(
        "POST",
        "/api/v1/patients/{id}/episodes",
        {**h, "Idempotency-Key": "contract-episode"},
        status=201,
        ids=patient,
        json=enrolment(clinic, program="oud"),
    )
    await api.call("GET", "/api/v1/patients/{id}/episodes", h, status=200, ids=patient)
    for body in (
        {"kind": "phq9", "items": phq9(11, item9=1)},
        {"kind": "gad7", "items": gad7(8)},
        {
            "kind": "moud",
            "adherence": "missed_doses",
            "medication": "methadone",
            "daily_dose_mg": 80,
        },
        {"kind": "urine_drug_screen", "results": {"fentanyl": "positive"}},
    ):
        await api.call(
            "POST",
            "/api/v1/episodes/{id}/measures",
            h,
            status=201,
            ids=episode,
            json={"measured_on": "2027-02-20", **body},
        )
    await api.call(
        "POST",
        "/api/v1/episodes/{id}/contacts",
        h,
        status=201,
        ids=episode,
        json={
            "contact_on": "2027-02-21",
            "minutes": 20,
            "kind": "phone",
            "who": "patient",
            "counts": True,
        },
    )
    await api.call("GET", "/api/v1/episodes/{id}", h, status=200, ids=episode)
    rows = await api.call("GET", "/api/v1/registry", network.hub_admin_headers(), status=200)
    assert any(r["episode_id"] == episode["id"] for r in rows["rows"])
    await api.call(
        "POST",
        "/api/v1/episodes/{id}/close",
        h,
        status=200,
        ids=episode,
        json={"ended_on": "2027-03-01", "end_reason": "transferred"},
    )
