"""Discovery: RFC 8414 metadata and the SMART configuration describe the token endpoint as it
behaves, and a real OAuth client library configured from them alone gets a working token."""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import httpx2
import pytest
from aiohttp.test_utils import TestClient, TestServer
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization

from telehub.app import create_app
from telehub.auth import ALL_SCOPES, KIND_SCOPES
from telehub.settings import Settings
from tests.factories import Network
from tests.http.oauth_support import backend_client, rsa_key

RFC_8414 = "/.well-known/oauth-authorization-server"
SMART = "/.well-known/smart-configuration"


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
async def server(pool: asyncpg.Pool, settings: Settings) -> AsyncIterator[str]:
    """The app on a real loopback HTTP server whose base URL is its own address; its URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    app = create_app(dataclasses.replace(settings, base_url=base), pool=pool)
    running = TestServer(app, host="127.0.0.1", port=port)
    await running.start_server()
    yield base
    await running.close()


async def fetch_json(url: str) -> dict[str, Any]:
    """GET a JSON document over real HTTP."""
    async with httpx2.AsyncClient(trust_env=False) as http:
        response = await http.get(url)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    document: dict[str, Any] = response.json()
    return document


def operation_scopes(openapi: dict[str, Any]) -> set[str]:
    """Every scope some operation of the OpenAPI document needs."""
    return {
        scope
        for methods in openapi["paths"].values()
        for operation in methods.values()
        if isinstance(operation, dict)
        for requirement in operation.get("security", [])
        for scope in requirement.get("oauth2", [])
    }


# --- the documents ---------------------------------------------------------------------------


async def test_the_authorization_server_metadata_describes_the_token_endpoint(
    client: TestClient, settings: Settings
) -> None:
    response = await client.get(RFC_8414)
    assert response.status == 200
    assert response.content_type == "application/json"
    metadata = await response.json()
    assert metadata == {
        "issuer": settings.issuer,
        "token_endpoint": settings.token_endpoint,
        "token_endpoint_auth_methods_supported": [
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
        ],
        "token_endpoint_auth_signing_alg_values_supported": ["RS384", "ES384"],
        "grant_types_supported": ["client_credentials"],
        "scopes_supported": sorted(ALL_SCOPES),
        "response_types_supported": [],
    }
    # No authorization endpoint (client credentials only) and no jwks_uri (HMAC tokens).


async def test_the_smart_configuration_describes_backend_services(
    client: TestClient, settings: Settings
) -> None:
    response = await client.get(SMART)
    assert response.status == 200
    assert response.content_type == "application/json"
    config = await response.json()
    assert config["token_endpoint"] == settings.token_endpoint
    assert config["grant_types_supported"] == ["client_credentials"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert {"RS384", "ES384"} <= set(config["token_endpoint_auth_signing_alg_values_supported"])
    assert {"client-confidential-asymmetric", "client-confidential-symmetric"} <= set(
        config["capabilities"]
    )
    # telehub's own scopes, and the SMART system scopes mapped to them (FHIR).
    smart = [s for s in config["scopes_supported"] if s.startswith("system/")]
    assert smart and sorted(set(config["scopes_supported"]) - set(smart)) == sorted(ALL_SCOPES)
    # SMART: issuer and jwks_uri only with sso-openid-connect, which this service does not do.
    assert "issuer" not in config and "jwks_uri" not in config


async def test_every_scope_offered_is_needed_by_an_operation_and_usable_by_a_kind(
    client: TestClient,
) -> None:
    metadata = await (await client.get(RFC_8414)).json()
    openapi = await (await client.get("/api/v1/openapi.json")).json()
    offered = set(metadata["scopes_supported"])
    assert offered == operation_scopes(openapi)
    assert offered == set().union(*KIND_SCOPES.values())


# --- a real OAuth client, configured from the documents alone --------------------------------


@pytest.mark.parametrize("method", ["client_secret_basic", "client_secret_post"])
async def test_authlib_gets_a_token_with_a_secret_from_the_metadata_alone(
    server: str, network: Network, method: str
) -> None:
    spoke = await network.spoke()
    metadata = await fetch_json(server + RFC_8414)
    assert method in metadata["token_endpoint_auth_methods_supported"]
    assert "client_credentials" in metadata["grant_types_supported"]
    async with AsyncOAuth2Client(
        spoke.client_id,
        spoke.client_secret,
        token_endpoint_auth_method=method,
        scope="slots:read services:read",
        trust_env=False,
    ) as oauth:
        token = await oauth.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        assert token["scope"] == "services:read slots:read"
        services = await oauth.get(server + "/api/v1/services")
    assert services.status_code == 200, services.text
    assert services.json() == {"services": []}


@pytest.mark.parametrize("audience", ["token_endpoint", "issuer"])
async def test_authlib_gets_a_token_with_private_key_jwt_from_the_smart_configuration(
    server: str, conn: asyncpg.Connection, network: Network, audience: str
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    config = await fetch_json(server + SMART)
    metadata = await fetch_json(server + RFC_8414)
    assert "client-confidential-asymmetric" in config["capabilities"]
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert "RS384" in config["token_endpoint_auth_signing_alg_values_supported"]
    pem = rsa_key().private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # RFC 7523 section 3 lets the assertion name either; authlib names what it is given.
    aud = config["token_endpoint"] if audience == "token_endpoint" else metadata["issuer"]
    # SMART Backend Services: the assertion expires within five minutes (authlib's default is
    # an hour, so it is told), and names the key it is signed with.
    signer = PrivateKeyJWT(
        aud, alg="RS384", headers={"kid": "k1"}, claims={"exp": int(time.time()) + 240}
    )
    async with AsyncOAuth2Client(
        backend.client_id, pem, token_endpoint_auth_method=signer, trust_env=False
    ) as oauth:
        token = await oauth.fetch_token(config["token_endpoint"], grant_type="client_credentials")
        assert token["token_type"] == "Bearer"
        bookings = await oauth.get(server + "/api/v1/bookings")
    assert bookings.status_code == 200, bookings.text


async def test_authlib_reads_a_refusal_as_an_oauth_error(server: str, network: Network) -> None:
    spoke = await network.spoke()
    metadata = await fetch_json(server + RFC_8414)
    async with AsyncOAuth2Client(
        spoke.client_id,
        "not-the-secret",
        token_endpoint_auth_method="client_secret_basic",
        trust_env=False,
    ) as oauth:
        with pytest.raises(OAuthError) as refused:
            await oauth.fetch_token(metadata["token_endpoint"], grant_type="client_credentials")
    assert refused.value.error == "invalid_client"
    assert refused.value.description
