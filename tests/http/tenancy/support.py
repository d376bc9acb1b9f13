"""What the tenancy tests share: two spokes' bookings (the `tenants` fixture, conftest.py),
booking as a spoke, and readers of refusals, audit rows and open slots."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from spokes.store import Patient
from tests import factories
from tests.factories import SpokeUser, booking_body, slot_starts

# The default consultant works Mondays 09:00-12:00 in Los Angeles: 17:00, 18:00, 19:00Z.
A_TIME = "2027-03-08T17:00:00Z"
B_TIME = "2027-03-08T18:00:00Z"
FREE = "2027-03-08T19:00:00Z"
SHARED_KEY = "first-booking"  # both spokes use it: keys belong to one client
HOURS = {"rules": [{"weekday": "tuesday", "start": "13:00", "end": "15:00"}], "exceptions": []}


@dataclass(frozen=True)
class Tenants:
    """Two spokes, each with a patient booked with the same consultant."""

    a: SpokeUser
    b: SpokeUser
    patient_a: Patient
    patient_b: Patient
    booking_a: dict[str, Any]
    booking_b: dict[str, Any]
    service_id: int
    consultant_id: int


async def book(
    client: TestClient,
    spoke: SpokeUser,
    patient_id: object,
    start: str,
    *,
    service_id: int,
    consultant_id: int,
    key: str | None = None,
) -> ClientResponse:
    """POST /api/v1/bookings as the spoke, under the key (default: a fresh one)."""
    body = booking_body(
        service_id=service_id, consultant_id=consultant_id, patient_id=patient_id, start=start
    )
    return await factories.book(client, spoke, body, key=key)


def comparable(problem: dict[str, Any]) -> dict[str, Any]:
    """A problem document without what differs between any two requests."""
    return {k: v for k, v in problem.items() if k not in {"request_id", "instance"}}


async def audit_rows(
    conn: asyncpg.Connection, record_type: str, record_id: object
) -> list[tuple[str, str, int | None]]:
    """(actor, action, spoke_id) of every audit row about one record, oldest first."""
    rows = await conn.fetch(
        "SELECT actor, action, spoke_id FROM audit_log"
        " WHERE record_type = $1 AND record_id = $2 ORDER BY id",
        record_type,
        str(record_id),
    )
    return [(r["actor"], r["action"], r["spoke_id"]) for r in rows]


async def open_starts(client: TestClient, t: Tenants) -> list[str]:
    """Starts of the open slots on Monday 8 March, as spoke A sees them."""
    return await slot_starts(client, t.a.headers, t.service_id)


def actor(spoke: SpokeUser) -> str:
    """How audit rows name the spoke's API client."""
    return f"client:{spoke.client_id}"
