"""A client is granted only scopes its kind can use: a hub token never carries the clinic-only
patient and acknowledgement scopes, refused when the client is created and when a token is asked."""

from __future__ import annotations

import asyncpg
import jwt
import pytest
from aiohttp.test_utils import TestClient

from telehub.auth import KIND_SCOPES, SPOKE_ONLY_SCOPES, CallerKind
from telehub.clients import ApiClient, ScopesNotForKind, create_client
from tests.factories import Network
from tests.http.oauth_support import ask_token, basic, bearer, granted, refused


async def hub_client(conn: asyncpg.Connection) -> tuple[ApiClient, str]:
    """A hub system's client, registered as the coordinator pages and the CLI do."""
    registered, secret = await create_client(conn, name="Hub reporting", kind="hub_admin")
    assert secret is not None
    return registered, secret


async def test_a_hub_client_is_registered_without_the_clinic_only_scopes(
    conn: asyncpg.Connection,
) -> None:
    registered, _ = await hub_client(conn)
    assert registered.scopes == KIND_SCOPES["hub_admin"]
    assert registered.scopes.isdisjoint(SPOKE_ONLY_SCOPES)


async def test_a_hub_token_carries_every_scope_a_hub_can_use_and_no_patient_scope(
    client: TestClient, conn: asyncpg.Connection
) -> None:
    registered, secret = await hub_client(conn)
    body = await granted(await ask_token(client, {}, basic(registered.client_id, secret)))
    assert set(body["scope"].split()) == KIND_SCOPES["hub_admin"]
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert not set(claims["scope"].split()) & SPOKE_ONLY_SCOPES


@pytest.mark.parametrize("scope", sorted(SPOKE_ONLY_SCOPES))
async def test_a_hub_client_asking_for_a_clinic_only_scope_is_invalid_scope(
    client: TestClient, conn: asyncpg.Connection, scope: str
) -> None:
    registered, secret = await hub_client(conn)
    response = await ask_token(client, {"scope": scope}, basic(registered.client_id, secret))
    body = await refused(response, 400, "invalid_scope")
    assert scope in body["error_description"]


async def test_a_hub_client_stored_with_patient_scopes_before_is_still_not_granted_them(
    client: TestClient, conn: asyncpg.Connection
) -> None:
    registered, secret = await hub_client(conn)
    # A row written before the kinds were narrowed (or by hand) still lists them.
    await conn.execute(
        "UPDATE api_clients SET scopes = scopes || $2::text[] WHERE client_id = $1",
        registered.client_id,
        sorted(SPOKE_ONLY_SCOPES),
    )
    body = await granted(await ask_token(client, {}, basic(registered.client_id, secret)))
    assert set(body["scope"].split()) == KIND_SCOPES["hub_admin"]
    response = await ask_token(
        client, {"scope": "patients:read"}, basic(registered.client_id, secret)
    )
    await refused(response, 400, "invalid_scope")


async def test_the_hub_token_it_gets_is_refused_by_patient_endpoints_for_want_of_scope(
    client: TestClient, conn: asyncpg.Connection
) -> None:
    registered, secret = await hub_client(conn)
    body = await granted(await ask_token(client, {}, basic(registered.client_id, secret)))
    response = await client.get(
        "/api/v1/patients", params={"mrn": "A-1"}, headers=bearer(body["access_token"])
    )
    assert response.status == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]


@pytest.mark.parametrize(
    ("kind", "scopes"),
    [
        pytest.param("hub_admin", ["services:write", "patients:read"], id="hub-with-patients"),
        pytest.param("hub_admin", ["notes:acknowledge"], id="hub-acknowledging"),
        pytest.param("spoke", ["bookings:read", "services:write"], id="spoke-writing-services"),
        pytest.param("consultant", ["patients:write"], id="consultant-with-patients"),
        pytest.param("spoke", ["admin:everything"], id="unknown-scope"),
    ],
)
async def test_a_client_cannot_be_created_with_a_scope_its_kind_cannot_use(
    conn: asyncpg.Connection, network: Network, kind: CallerKind, scopes: list[str]
) -> None:
    owner: dict[str, int] = {}
    if kind == "spoke":
        owner["spoke_id"] = (await network.spoke()).id
    if kind == "consultant":
        owner["consultant_id"] = (await network.consultant([])).id
    with pytest.raises(ScopesNotForKind, match=scopes[-1]):
        await create_client(conn, name="Greedy", kind=kind, scopes=scopes, **owner)
    assert await conn.fetchval("SELECT count(*) FROM api_clients WHERE name = 'Greedy'") == 0


async def test_a_client_created_with_fewer_scopes_is_granted_only_those(
    client: TestClient, conn: asyncpg.Connection, network: Network
) -> None:
    spoke = await network.spoke()
    registered, secret = await create_client(
        conn, name="Read-only", kind="spoke", spoke_id=spoke.id, scopes=["slots:read"]
    )
    assert secret is not None
    body = await granted(await ask_token(client, {}, basic(registered.client_id, secret)))
    assert body["scope"] == "slots:read"
    await refused(
        await ask_token(client, {"scope": "bookings:read"}, basic(registered.client_id, secret)),
        400,
        "invalid_scope",
    )
