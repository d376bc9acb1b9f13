"""The clinic's 1:1 waitlist as its pages show it: the requests, and the words for their ids.

The page handlers ask these functions and render what they return; the waitlist itself is
scheduling/waitlist.py (join, leave, and telling waiting requests of a time that opened).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from hub.store import Consultant
from scheduling import waitlist
from scheduling.store import Service
from scheduling.waitlist import Wanted
from scheduling.waitlist_store import WaitRequest
from spokes import booking_views, store
from spokes.overview import clinic_of, consultant_names
from spokes.store import Patient, Spoke
from telehub.audit import Trail
from telehub.auth import Caller


@dataclass(frozen=True, slots=True)
class WaitlistView:
    """The clinic's requests still on the list, and what the join form offers."""

    spoke: Spoke
    requests: list[WaitRequest]
    services: list[Service]
    consultants: list[Consultant]
    consultant_names: dict[int, str]
    service_names: dict[int, str]
    patients: dict[uuid.UUID, Patient]


async def clinic_waitlist(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, *, service_id: int | None = None
) -> WaitlistView:
    """The clinic's waitlist (oldest first) and the services and consultants to ask for."""
    spoke = await clinic_of(conn, caller)
    requests = await waitlist.mine(conn, caller, trail)
    services = await booking_views.bookable_services(conn)
    named = [r.patient_id for r in requests if r.patient_id is not None]
    return WaitlistView(
        spoke=spoke,
        requests=requests,
        services=services,
        consultants=await booking_views.consultants_for(conn, service_id),
        consultant_names=await consultant_names(conn),
        service_names={s.id: s.name for s in services},
        patients=await store.patients_by_id(conn, spoke.id, named),
    )


async def join(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, wanted: Wanted, *, now: datetime
) -> WaitRequest:
    """Put the clinic's request on the list (the API's rules: ValidationFailed names a field)."""
    return await waitlist.join(conn, caller, trail, wanted, now=now)


async def leave(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, request_id: uuid.UUID, *, now: datetime
) -> WaitRequest:
    """Take one of the clinic's requests off the list (NotFound for another clinic's)."""
    return await waitlist.leave(conn, caller, trail, request_id, now=now)
