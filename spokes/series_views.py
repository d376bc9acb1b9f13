"""What the clinic's series pages show: the form's choices, a plan with names, one series.

The pages ask here once and render; the series themselves are planned, booked and cancelled by
`scheduling.series`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from hub import store as hub_store
from hub.store import Consultant
from scheduling import series
from scheduling import store as scheduling_store
from scheduling.series import Series, SeriesPlan
from scheduling.series_schemas import SeriesIn
from scheduling.store import Service
from spokes import booking_views, patients
from spokes.store import Patient
from telehub.audit import Trail
from telehub.auth import Caller


@dataclass(frozen=True, slots=True)
class Choices:
    """What the "Book a series" form offers: the patient (once chosen) and the services and
    consultants to choose from."""

    patient: Patient | None
    matches: list[Patient]  # the clinic's patients with the MRN searched for
    services: list[Service]
    consultants: list[Consultant]


async def choices(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    patient_id: uuid.UUID | None,
    mrn: str | None,
    service_id: int | None,
) -> Choices:
    """The form's patient (by id, or the MRN's matches) and its services and consultants."""
    patient = await patients.get(conn, caller, trail, patient_id) if patient_id else None
    matches = (
        await patients.find(conn, caller, trail, mrn=mrn, limit=5)
        if mrn and patient is None
        else []
    )
    return Choices(
        patient,
        matches,
        await booking_views.bookable_services(conn),
        await booking_views.consultants_for(conn, service_id),
    )


@dataclass(frozen=True, slots=True)
class Planned:
    """A series as it would be booked now, with the names the plan page shows."""

    plan: SeriesPlan
    patient: Patient
    service: Service
    consultant: Consultant


async def planned(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, body: SeriesIn, now: datetime
) -> Planned:
    """Every session of the series as it would be booked now (nothing is written)."""
    plan = await series.plan(conn, caller, trail, body, now)
    return await _named(conn, caller, trail, plan, body)


async def _named(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, plan: SeriesPlan, body: SeriesIn
) -> Planned:
    patient = await patients.get(conn, caller, trail, body.patient_id)
    service = await scheduling_store.get_service(conn, body.service_id)
    consultant = await hub_store.get_consultant(conn, plan.consultant_id)
    assert service is not None and consultant is not None  # the plan was made with them
    return Planned(plan, patient, service, consultant)


async def refused(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, plan: SeriesPlan, body: SeriesIn
) -> Planned:
    """The plan a refused booking carried, with its names."""
    return await _named(conn, caller, trail, plan, body)


@dataclass(frozen=True, slots=True)
class Shown:
    """One series as its page shows it."""

    series: Series
    patient: Patient
    service: Service | None
    consultant: Consultant | None


async def shown(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, series_id: uuid.UUID
) -> Shown:
    """A series of the caller's clinic (reads audited), with who and what it is."""
    found = await series.get(conn, caller, trail, series_id)
    return Shown(
        found,
        await patients.get(conn, caller, trail, found.patient_id),
        await scheduling_store.get_service(conn, found.service_id),
        await hub_store.get_consultant(conn, found.consultant_id),
    )
