"""The coordinator's API clients and webhook deliveries."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, SpokeUser, econsult, signed_note
from tests.http.coordinator_support import (
    SECTIONS,
    coordinator,
    post_form,
    tables,
)

# --- API clients --------------------------------------------------------------------------------


async def _token(client: TestClient, client_id: str, secret: str) -> Any:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_a_new_clients_secret_is_shown_once_works_and_stops_working_when_revoked(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    created = await post_form(
        client,
        "/coordinator/clients",
        {"name": "Riverside EHR", "kind": "spoke", "spoke_id": str(spoke.id), "consultant_id": ""},
    )
    assert created.status == 200
    html = await created.text()
    client_id = re.search(r'id="new-client-id">([^<]+)<', html)
    secret = re.search(r'id="new-client-secret">([^<]+)<', html)
    assert client_id and secret
    stored = await conn.fetchrow(
        "SELECT name, kind, spoke_id, secret_hash, active FROM api_clients WHERE client_id = $1",
        client_id.group(1),
    )
    assert (stored["name"], stored["kind"], stored["spoke_id"], stored["active"]) == (
        "Riverside EHR",
        "spoke",
        spoke.id,
        True,
    )
    assert secret.group(1).encode() not in stored["secret_hash"]

    granted = await _token(client, client_id.group(1), secret.group(1))
    assert granted.status == 200, await granted.text()
    token = (await granted.json())["access_token"]
    services = await client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
    assert services.status == 200

    listing = await (await client.get("/coordinator/clients")).text()
    assert secret.group(1) not in listing  # shown once, never again
    row = next(r for r in tables(listing)["clients"] if r[1] == client_id.group(1))
    assert row[:4] == ["Riverside EHR", client_id.group(1), f"Clinic: {spoke.name}", "active"]

    revoked = await post_form(
        client,
        f"/coordinator/clients/{client_id.group(1)}/revoke",
        {"confirmed": "yes"},
        page="/coordinator/clients",
    )
    assert revoked.status == 303
    refused = await _token(client, client_id.group(1), secret.group(1))
    assert refused.status == 401
    assert (await refused.json())["error"] == "invalid_client"
    listing = await (await client.get("/coordinator/clients")).text()
    assert "Revoked Riverside EHR: it gets no new tokens" in listing
    row = next(r for r in tables(listing)["clients"] if r[1] == client_id.group(1))
    assert row[3] == "revoked"


async def test_a_client_form_without_its_owner_says_what_to_fix(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client, "/coordinator/clients", {"name": "Lost EHR", "kind": "spoke", "spoke_id": ""}
    )
    assert response.status == 422
    html = await response.text()
    assert 'id="f-spoke_id-error">choose the clinic whose system this is<' in html
    assert 'value="Lost EHR"' in html and "new-client-secret" not in html
    missing = await post_form(
        client, "/coordinator/clients", {"name": "Ghost", "kind": "spoke", "spoke_id": "999"}
    )
    assert missing.status == 422
    assert 'id="f-spoke_id-error">no such clinic<' in await missing.text()
    assert await conn.fetchval("SELECT count(*) FROM api_clients") == 0


async def test_revoking_an_unknown_client_is_not_found(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client, "/coordinator/clients/th_nobody/revoke", {}, page="/coordinator/clients"
    )
    assert response.status == 404


# --- deliveries ---------------------------------------------------------------------------------


async def _spoke_with_a_pending_delivery(client: TestClient, network: Network) -> SpokeUser:
    """A spoke without a webhook, and a note signed for it: one pending delivery."""
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    doctor = await network.consultant([econsult_service])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=econsult_service.id)
    await signed_note(client, network.consultant_headers(doctor.id), asked["id"], SECTIONS)
    return spoke


async def test_the_deliveries_page_lists_a_pending_delivery_as_in_the_clinics_inbox(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await _spoke_with_a_pending_delivery(client, network)
    delivery_id = await conn.fetchval("SELECT id FROM outbox")
    await coordinator(client, network)
    html = await (await client.get("/coordinator/deliveries?state=pending")).text()
    rows = tables(html)["deliveries"]
    assert len(rows) == 2
    assert rows[1][0].startswith("Signed consult note")
    assert rows[1][1:4] == [spoke.name, "no webhook: in the clinic's inbox", "0"]
    assert f'action="/coordinator/deliveries/{delivery_id}/retry"' not in html
    delivered = await (await client.get("/coordinator/deliveries?state=delivered")).text()
    assert "deliveries" not in tables(delivered) and "No deliveries delivered." in delivered


async def test_a_delivered_event_cannot_be_retried(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await _spoke_with_a_pending_delivery(client, network)
    delivery_id = await conn.fetchval(
        "UPDATE outbox SET delivered_at = now(), last_status = 204 RETURNING id"
    )
    await coordinator(client, network)
    page = await (await client.get("/coordinator/deliveries")).text()
    assert "/retry" not in page
    response = await post_form(
        client, f"/coordinator/deliveries/{delivery_id}/retry", {}, page="/coordinator/deliveries"
    )
    assert response.status == 404


async def test_an_unknown_delivery_state_filter_is_refused(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await client.get("/coordinator/deliveries?state=lost")
    assert response.status == 422


@pytest.mark.parametrize(
    "path", ["/coordinator/deliveries/abc/retry", "/coordinator/deliveries/0/retry"]
)
async def test_retrying_a_malformed_or_missing_delivery_is_not_found(
    client: TestClient, network: Network, path: str
) -> None:
    await coordinator(client, network)
    response = await post_form(client, path, {}, page="/coordinator/deliveries")
    assert response.status == 404
