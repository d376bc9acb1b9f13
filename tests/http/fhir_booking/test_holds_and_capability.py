"""Holds through FHIR under concurrency and the clock, and what the CapabilityStatement says
about booking (the operations, the hold's expiry extension, the reschedule pattern)."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.factories.network import Clock
from tests.http.fhir_booking.support import (
    FHIR_JSON,
    MONDAY_9,
    booking_params,
    clinic,
    fhir,
    parameters,
    proposal_at,
    proposed,
)


async def test_two_clinics_holding_one_slot_at_once_one_wins(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    rival = await network.spoke()
    rival_patient = await network.patient(rival)
    theirs = {
        **wanted,
        "participant": [
            {"actor": {"reference": f"Patient/{rival_patient.id}"}, "status": "needs-action"}
        ],
    }

    async def hold(headers: dict[str, str], appointment: dict[str, object]) -> int:
        response = await client.post(
            "/fhir/r4/Appointment/$hold",
            data=json.dumps(booking_params(dict(appointment))),
            headers={**headers, "Content-Type": FHIR_JSON},
        )
        assert response.content_type == FHIR_JSON
        return response.status

    statuses = await asyncio.gather(hold(c.spoke.headers, wanted), hold(rival.headers, theirs))
    assert sorted(statuses) == [201, 409]
    async with pool.acquire() as conn:
        active = await conn.fetchval("SELECT count(*) FROM slot_holds WHERE status = 'active'")
    assert active == 1


async def test_an_expired_hold_cannot_be_booked_and_frees_the_slot(
    client: TestClient, network: Network, clock: Clock, pool: asyncpg.Pool
) -> None:
    c = await clinic(network)
    wanted = proposal_at(await proposed(client, c), MONDAY_9)
    held = await fhir(
        client, "POST", "Appointment/$hold", c.spoke.headers, booking_params(wanted), expect=201
    )
    clock.now += timedelta(minutes=6)
    lapsed = await fhir(client, "GET", f"Appointment/{held['id']}", c.spoke.headers, expect=200)
    assert lapsed["status"] == "cancelled"
    assert lapsed["cancelationReason"]["text"] == "the hold expired"
    ref = parameters(
        appointment_reference={"valueReference": {"reference": f"Appointment/{held['id']}"}}
    )
    refused = await fhir(client, "POST", "Appointment/$book", c.spoke.headers, ref, expect=409)
    assert "expired" in refused["issue"][0]["diagnostics"]
    # No job ran: the time books again. (Whether $find offers it again is the slot search's
    # reading of the hold's expiry, which goes by the database's clock rather than the app's.)
    await fhir(
        client, "POST", "Appointment/$book", c.spoke.headers, booking_params(wanted), expect=201
    )
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM bookings") == 1


async def test_the_capability_statement_declares_booking(client: TestClient) -> None:
    statement = await fhir(client, "GET", "metadata", {}, expect=200)
    [rest] = statement["rest"]
    by_type = {r["type"]: r for r in rest["resource"]}
    appointment = by_type["Appointment"]
    assert {op["name"] for op in appointment["operation"]} >= {"find", "hold", "book"}
    assert {i["code"] for i in appointment["interaction"]} >= {
        "read",
        "search-type",
        "create",
        "update",
        "patch",
    }
    assert {p["name"] for p in appointment["searchParam"]} >= {
        "patient",
        "date",
        "status",
        "practitioner",
    }
    documented = json.dumps(appointment)
    assert "urn:telehub:extension:hold-expires" in documented
    assert "original-appointment" in documented
    for name in ("DocumentReference", "ServiceRequest", "Task"):
        assert {i["code"] for i in by_type[name]["interaction"]} == {"read", "search-type"}
