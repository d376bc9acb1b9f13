"""The token endpoint grants SMART v2 system scopes by the one table in telehub/auth.py: a
client gets one when every telehub scope it maps to is the client's own (else invalid_scope),
and the token carries both, so the telehub scope checks behind every route pass."""

from __future__ import annotations

import asyncpg
import jwt
import pytest
from aiohttp.test_utils import TestClient

from telehub.clients import create_client
from telehub.settings import Settings
from tests.factories import Network
from tests.http.oauth_support import (
    ask_token,
    assertion_form,
    backend_client,
    basic,
    bearer,
    client_assertion,
    granted,
    refused,
    rsa_key,
)


def scopes_of(body: dict[str, object]) -> set[str]:
    """The scopes a token answer says, checked against the scopes the token itself carries."""
    said = str(body["scope"]).split()
    claims = jwt.decode(str(body["access_token"]), options={"verify_signature": False})
    assert set(claims["scope"].split()) == set(said)
    return set(said)


async def test_a_clinic_asking_for_smart_scopes_gets_them_and_their_telehub_scopes(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    asked = "system/Slot.rs system/Appointment.cruds system/Patient.rs"
    body = await granted(
        await ask_token(client, {"scope": asked}, basic(spoke.client_id, spoke.client_secret))
    )
    assert scopes_of(body) == {
        "system/Slot.rs",
        "system/Appointment.cruds",
        "system/Patient.rs",
        "slots:read",
        "bookings:read",
        "bookings:write",
        "patients:read",
    }


async def test_the_v1_spelling_is_granted_too(client: TestClient, network: Network) -> None:
    spoke = await network.spoke()
    body = await granted(
        await ask_token(
            client,
            {"scope": "system/Appointment.read system/DocumentReference.read"},
            basic(spoke.client_id, spoke.client_secret),
        )
    )
    assert scopes_of(body) == {
        "system/Appointment.read",
        "system/DocumentReference.read",
        "bookings:read",
        "notes:read",
    }


async def test_smart_and_telehub_scopes_can_be_asked_together(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    body = await granted(
        await ask_token(
            client,
            {"scope": "system/Slot.rs services:read"},
            basic(spoke.client_id, spoke.client_secret),
        )
    )
    assert scopes_of(body) == {"system/Slot.rs", "slots:read", "services:read"}


async def test_a_smart_scope_beyond_the_clients_own_scopes_is_invalid_scope(
    client: TestClient, conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    narrow, secret = await create_client(
        conn,
        name="Slot directory",
        kind="spoke",
        spoke_id=spoke.id,
        scopes=["slots:read", "bookings:read"],
    )
    assert secret is not None
    credentials = basic(narrow.client_id, secret)
    ok = await granted(await ask_token(client, {"scope": "system/Appointment.rs"}, credentials))
    assert scopes_of(ok) == {"system/Appointment.rs", "bookings:read"}
    # .cruds also needs bookings:write, which this client does not have: nothing is granted.
    response = await ask_token(
        client, {"scope": "system/Slot.rs system/Appointment.cruds"}, credentials
    )
    body = await refused(response, 400, "invalid_scope")
    assert "system/Appointment.cruds" in body["detail"]
    assert "system/Slot.rs" not in body["detail"]


async def test_a_hub_system_cannot_get_the_patient_scope(
    client: TestClient, conn: asyncpg.Connection
) -> None:
    hub, secret = await create_client(conn, name="Hub reporting", kind="hub_admin")
    assert secret is not None
    response = await ask_token(client, {"scope": "system/Patient.rs"}, basic(hub.client_id, secret))
    await refused(response, 400, "invalid_scope")
    ok = await granted(
        await ask_token(client, {"scope": "system/Slot.rs"}, basic(hub.client_id, secret))
    )
    assert scopes_of(ok) == {"system/Slot.rs", "slots:read"}


@pytest.mark.parametrize(
    "scope",
    [
        "system/Slot.c",  # slots cannot be created
        "system/Slot.sr",  # not v2 order
        "system/Observation.rs",  # not served
        "patient/Appointment.rs",  # no launch context
        "system/*.rs",
        "system/Slot.rs?start=ge2026-01-01",
    ],
)
async def test_a_smart_scope_telehub_does_not_offer_is_invalid_scope(
    client: TestClient, network: Network, scope: str
) -> None:
    spoke = await network.spoke()
    response = await ask_token(
        client, {"scope": scope}, basic(spoke.client_id, spoke.client_secret)
    )
    body = await refused(response, 400, "invalid_scope")
    assert scope in body["detail"]


async def test_a_key_only_client_reads_bookings_with_a_smart_scope_and_may_not_write(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    assertion = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    body = await granted(
        await ask_token(client, {"scope": "system/Appointment.rs", **assertion_form(assertion)})
    )
    assert scopes_of(body) == {"system/Appointment.rs", "bookings:read"}
    token = bearer(str(body["access_token"]))
    listed = await client.get("/api/v1/bookings", headers=token)
    assert listed.status == 200, await listed.text()
    # .rs does not write: the route's telehub scope check (bookings:write) refuses it.
    written = await client.post("/api/v1/bookings", json={}, headers=token)
    assert written.status == 403
    assert 'error="insufficient_scope"' in written.headers["WWW-Authenticate"]
