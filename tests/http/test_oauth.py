"""POST /oauth/token: client credentials by secret or private_key_jwt, and every refusal."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import rsa

from telehub.clients import revoke_client
from telehub.settings import Settings
from tests.factories import Network, SpokeUser
from tests.http.oauth_support import (
    GRANT,
    SPOKE_SCOPES,
    TOKEN,
    ask_token,
    assertion_form,
    backend_client,
    basic,
    bearer,
    client_assertion,
    ec_key,
    granted,
    refused,
    rsa_key,
)


@pytest.fixture
async def spoke(network: Network) -> SpokeUser:
    """A spoke clinic whose client has a secret."""
    return await network.spoke()


# --- client secrets --------------------------------------------------------------------------


async def test_client_secret_basic_grants_every_scope_of_the_client(
    client: TestClient, spoke: SpokeUser
) -> None:
    response = await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret))
    body = await granted(response)
    assert body["scope"] == SPOKE_SCOPES
    assert response.headers["Pragma"] == "no-cache"


async def test_a_token_from_client_secret_basic_works_on_the_api(
    client: TestClient, spoke: SpokeUser
) -> None:
    body = await granted(await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret)))
    services = await client.get("/api/v1/services", headers=bearer(body["access_token"]))
    assert services.status == 200
    assert await services.json() == {"services": []}


async def test_client_secret_post_works(client: TestClient, spoke: SpokeUser) -> None:
    form = {"client_id": spoke.client_id, "client_secret": spoke.client_secret}
    body = await granted(await ask_token(client, form))
    assert body["scope"] == SPOKE_SCOPES
    services = await client.get("/api/v1/services", headers=bearer(body["access_token"]))
    assert services.status == 200


async def test_client_secret_post_without_client_id_is_an_invalid_request(
    client: TestClient, spoke: SpokeUser
) -> None:
    await refused(
        await ask_token(client, {"client_secret": spoke.client_secret}), 400, "invalid_request"
    )


async def test_a_wrong_secret_over_basic_is_invalid_client_with_a_basic_challenge(
    client: TestClient, spoke: SpokeUser
) -> None:
    response = await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret + "x"))
    await refused(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_a_wrong_secret_in_the_form_is_invalid_client(
    client: TestClient, spoke: SpokeUser
) -> None:
    form = {"client_id": spoke.client_id, "client_secret": "x" + spoke.client_secret[1:]}
    await refused(await ask_token(client, form), 401, "invalid_client")


async def test_an_unknown_client_is_invalid_client(client: TestClient, spoke: SpokeUser) -> None:
    response = await ask_token(client, {}, basic("th_nobody", spoke.client_secret))
    await refused(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


async def test_an_unknown_client_and_a_wrong_secret_read_the_same(
    client: TestClient, spoke: SpokeUser
) -> None:
    unknown = await ask_token(client, {}, basic("th_nobody", spoke.client_secret))
    wrong = await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret + "x"))
    unknown_doc = await refused(unknown, 401, "invalid_client")
    wrong_doc = await refused(wrong, 401, "invalid_client")
    assert unknown_doc["detail"] == wrong_doc["detail"]


async def test_a_revoked_client_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, spoke: SpokeUser
) -> None:
    await granted(await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret)))
    assert await revoke_client(conn, spoke.client_id)
    response = await ask_token(client, {}, basic(spoke.client_id, spoke.client_secret))
    await refused(response, 401, "invalid_client")


@pytest.mark.parametrize(
    "authorization",
    [
        pytest.param("Basic not-base64!", id="not-base64"),
        pytest.param(f"Basic {base64.b64encode(b'no-colon').decode()}", id="no-colon"),
        pytest.param("Bearer abc", id="bearer-scheme"),
    ],
)
async def test_malformed_basic_credentials_are_invalid_client(
    client: TestClient, authorization: str
) -> None:
    response = await ask_token(client, {}, {"Authorization": authorization})
    await refused(response, 401, "invalid_client")
    assert response.headers["WWW-Authenticate"].startswith("Basic")


# --- private_key_jwt -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "algorithm"),
    [pytest.param(rsa_key, "RS384", id="RS384"), pytest.param(ec_key, "ES384", id="ES384")],
)
async def test_private_key_jwt_grants_a_token_that_works_on_the_api(
    client: TestClient,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    key: Any,
    algorithm: str,
) -> None:
    backend = await backend_client(conn, network, key(), "k1")
    token = client_assertion(settings, backend.client_id, key(), algorithm, kid="k1")
    body = await granted(await ask_token(client, assertion_form(token)))
    assert body["scope"] == SPOKE_SCOPES
    services = await client.get("/api/v1/services", headers=bearer(body["access_token"]))
    assert services.status == 200


async def test_private_key_jwt_may_also_name_the_client_id(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    form = {**assertion_form(token), "client_id": backend.client_id}
    await granted(await ask_token(client, form))


async def test_private_key_jwt_may_name_the_issuer_as_its_audience(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    # RFC 7523 section 3: the issuer identifies the server too; a strict client sends it.
    backend = await backend_client(conn, network, ec_key(), "k1")
    token = client_assertion(
        settings, backend.client_id, ec_key(), "ES384", kid="k1", aud=settings.issuer
    )
    body = await granted(await ask_token(client, assertion_form(token)))
    services = await client.get("/api/v1/services", headers=bearer(body["access_token"]))
    assert services.status == 200


async def test_a_replayed_client_assertion_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    await granted(await ask_token(client, assertion_form(token)))
    body = await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")
    assert "replay" in body["detail"]


async def test_a_new_assertion_with_a_used_jti_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, ec_key(), "k1")
    first = client_assertion(settings, backend.client_id, ec_key(), "ES384", kid="k1", jti="j1")
    second = client_assertion(
        settings, backend.client_id, ec_key(), "ES384", kid="k1", jti="j1", exp_in=200
    )
    assert first != second
    await granted(await ask_token(client, assertion_form(first)))
    await refused(await ask_token(client, assertion_form(second)), 401, "invalid_client")


async def test_an_assertion_replayed_within_the_clock_skew_after_expiry_is_refused(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    # Expired 5 seconds ago: still inside the 30-second leeway, so it is accepted once.
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1", exp_in=-5)
    await granted(await ask_token(client, assertion_form(token)))
    body = await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")
    assert "replay" in body["detail"]


async def test_an_assertion_expiring_ten_minutes_ahead_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1", exp_in=600)
    body = await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")
    assert "five minutes" in body["detail"]


async def test_an_assertion_signed_by_another_key_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    token = client_assertion(settings, backend.client_id, stranger, "RS384", kid="k1")
    await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")


async def test_an_assertion_for_another_audience_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    elsewhere = Settings(
        database_url="postgresql://unused", secret_key="k" * 40, base_url="http://other.test"
    )
    token = client_assertion(elsewhere, backend.client_id, rsa_key(), "RS384", kid="k1")
    await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")


async def test_an_assertion_for_a_client_without_keys_is_invalid_client(
    client: TestClient, settings: Settings, spoke: SpokeUser
) -> None:
    token = client_assertion(settings, spoke.client_id, rsa_key(), "RS384", kid="k1")
    await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")


async def test_a_client_id_that_differs_from_the_assertion_issuer_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    form = {**assertion_form(token), "client_id": "th_someone_else"}
    await refused(await ask_token(client, form), 401, "invalid_client")


async def test_a_wrong_client_assertion_type_is_an_invalid_request(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    form = {**assertion_form(token), "client_assertion_type": "urn:example:saml"}
    await refused(await ask_token(client, form), 400, "invalid_request")


# --- malformed requests ----------------------------------------------------------------------


@pytest.mark.parametrize("grant_type", ["password", "authorization_code", "CLIENT_CREDENTIALS"])
async def test_a_grant_type_other_than_client_credentials_is_unsupported(
    client: TestClient, spoke: SpokeUser, grant_type: str
) -> None:
    response = await client.post(
        TOKEN,
        data={"grant_type": grant_type, "username": "a", "password": "b"},
        headers=basic(spoke.client_id, spoke.client_secret),
    )
    await refused(response, 400, "unsupported_grant_type")


async def test_a_json_body_is_an_invalid_request(client: TestClient, spoke: SpokeUser) -> None:
    response = await client.post(
        TOKEN, json=GRANT, headers=basic(spoke.client_id, spoke.client_secret)
    )
    body = await refused(response, 400, "invalid_request")
    assert "x-www-form-urlencoded" in body["detail"]


async def test_basic_and_client_secret_together_are_an_invalid_request(
    client: TestClient, spoke: SpokeUser
) -> None:
    form = {"client_id": spoke.client_id, "client_secret": spoke.client_secret}
    response = await ask_token(client, form, basic(spoke.client_id, spoke.client_secret))
    await refused(response, 400, "invalid_request")


async def test_client_secret_and_client_assertion_together_are_an_invalid_request(
    client: TestClient, settings: Settings, spoke: SpokeUser
) -> None:
    token = client_assertion(settings, spoke.client_id, rsa_key(), "RS384", kid="k1")
    form = {
        **assertion_form(token),
        "client_id": spoke.client_id,
        "client_secret": spoke.client_secret,
    }
    await refused(await ask_token(client, form), 400, "invalid_request")


async def test_no_client_authentication_is_an_invalid_request(client: TestClient) -> None:
    await refused(await ask_token(client, {"client_id": "th_nobody"}), 400, "invalid_request")


# --- scopes ----------------------------------------------------------------------------------


async def test_asking_for_a_subset_of_scopes_grants_only_that_subset(
    client: TestClient, spoke: SpokeUser
) -> None:
    response = await ask_token(
        client, {"scope": "services:read slots:read"}, basic(spoke.client_id, spoke.client_secret)
    )
    body = await granted(response)
    assert body["scope"] == "services:read slots:read"
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["scope"] == "services:read slots:read"

    services = await client.get("/api/v1/services", headers=bearer(body["access_token"]))
    assert services.status == 200
    booking = await client.post(
        "/api/v1/bookings",
        json={},
        headers={**bearer(body["access_token"]), "Idempotency-Key": "k-1"},
    )
    assert booking.status == 403
    assert booking.content_type == "application/problem+json"
    assert (await booking.json())["required_scope"] == "bookings:write"


@pytest.mark.parametrize(
    "scope",
    [
        pytest.param("services:write", id="scope-of-another-kind"),
        pytest.param("bookings:read services:write", id="one-of-two-not-granted"),
        pytest.param("admin:everything", id="unknown-scope"),
    ],
)
async def test_asking_for_a_scope_the_client_lacks_is_invalid_scope(
    client: TestClient, spoke: SpokeUser, scope: str
) -> None:
    response = await ask_token(
        client, {"scope": scope}, basic(spoke.client_id, spoke.client_secret)
    )
    body = await refused(response, 400, "invalid_scope")
    assert scope.split()[-1] in body["detail"]
