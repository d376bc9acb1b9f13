"""The token endpoint's refusals as RFC 6749 section 5.2 says, and bad input that used to
answer 500 (NUL in a client id, NaN in a signed assertion) answering 400 or 401 instead."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Network, SpokeUser
from tests.http.oauth_support import (
    TOKEN,
    ask_token,
    assertion_form,
    backend_client,
    basic,
    client_assertion,
    granted,
    refused,
    rsa_key,
)


@pytest.fixture
async def spoke(network: Network) -> SpokeUser:
    """A spoke clinic whose client has a secret."""
    return await network.spoke()


def raw_basic(credentials: bytes) -> dict[str, str]:
    """A Basic header around exactly these bytes."""
    return {"Authorization": "Basic " + base64.b64encode(credentials).decode()}


# --- grant_type ------------------------------------------------------------------------------


async def test_a_missing_grant_type_is_an_invalid_request(
    client: TestClient, spoke: SpokeUser
) -> None:
    response = await client.post(
        TOKEN, data={}, headers=basic(spoke.client_id, spoke.client_secret)
    )
    body = await refused(response, 400, "invalid_request")
    assert "grant_type" in body["error_description"]


async def test_an_empty_grant_type_counts_as_missing(client: TestClient, spoke: SpokeUser) -> None:
    # RFC 6749 section 3.2: a parameter sent without a value is treated as omitted.
    response = await client.post(
        TOKEN, data={"grant_type": ""}, headers=basic(spoke.client_id, spoke.client_secret)
    )
    await refused(response, 400, "invalid_request")


async def test_an_unknown_grant_type_is_unsupported(client: TestClient, spoke: SpokeUser) -> None:
    response = await client.post(
        TOKEN,
        data={"grant_type": "urn:ietf:params:oauth:grant-type:jwt-bearer"},
        headers=basic(spoke.client_id, spoke.client_secret),
    )
    await refused(response, 400, "unsupported_grant_type")


async def test_a_parameter_given_twice_is_an_invalid_request(
    client: TestClient, spoke: SpokeUser
) -> None:
    # RFC 6749 section 3.2: request parameters must not be included more than once.
    response = await client.post(
        TOKEN,
        data=[("grant_type", "client_credentials"), ("scope", "slots:read"), ("scope", "x")],
        headers=basic(spoke.client_id, spoke.client_secret),
    )
    body = await refused(response, 400, "invalid_request")
    assert "scope" in body["error_description"]


# --- a challenge on every 401 ----------------------------------------------------------------


async def test_a_wrong_client_secret_in_the_form_gets_a_challenge(
    client: TestClient, spoke: SpokeUser
) -> None:
    form = {"client_id": spoke.client_id, "client_secret": "wrong"}
    response = await ask_token(client, form)
    await refused(response, 401, "invalid_client")  # which checks WWW-Authenticate


async def test_a_refused_client_assertion_gets_a_challenge(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1", exp_in=900)
    response = await ask_token(client, assertion_form(token))
    await refused(response, 401, "invalid_client")


async def test_an_error_description_holds_only_the_characters_rfc_6749_allows(
    client: TestClient, spoke: SpokeUser
) -> None:
    response = await ask_token(
        client, {"scope": 'slots:read "quoted"\\ café'}, basic(spoke.client_id, spoke.client_secret)
    )
    body = await refused(response, 400, "invalid_scope")
    description = body["error_description"]
    assert all(0x20 <= ord(c) <= 0x7E and c not in '"\\' for c in description), description


# --- NUL and other control characters in client credentials ----------------------------------


@pytest.mark.parametrize("client_id", ["a\x00b", "th_\x07bell", "th_\x7f"])
async def test_a_control_character_in_a_form_client_id_is_an_invalid_request(
    client: TestClient, client_id: str
) -> None:
    response = await ask_token(client, {"client_id": client_id, "client_secret": "s"})
    body = await refused(response, 400, "invalid_request")
    assert "client_id" in body["error_description"]


@pytest.mark.parametrize(
    "credentials",
    [
        pytest.param(b"a\x00b:secret", id="nul-in-the-client-id"),
        pytest.param(b"a%00b:secret", id="form-encoded-nul-in-the-client-id"),
        pytest.param(b"th_client:se\x00cret", id="nul-in-the-secret"),
        pytest.param(b"th_client:se%0Acret", id="form-encoded-newline-in-the-secret"),
        pytest.param(b":secret", id="empty-client-id"),
        pytest.param("th_clïent:secret".encode(), id="not-ascii"),
    ],
)
async def test_control_characters_in_basic_credentials_are_invalid_client(
    client: TestClient, credentials: bytes
) -> None:
    response = await ask_token(client, {}, raw_basic(credentials))
    body = await refused(response, 401, "invalid_client")
    assert "Basic" in body["error_description"]


# --- a validly signed assertion whose numbers are not numbers --------------------------------


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="NaN"),
        pytest.param(float("inf"), id="Infinity"),
        pytest.param(float("-inf"), id="-Infinity"),
        pytest.param("1900000000", id="string"),
        pytest.param(True, id="true"),
    ],
)
async def test_a_signed_assertion_with_a_date_that_is_no_number_is_invalid_client(
    client: TestClient,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    claim: str,
    value: Any,
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(
        settings, backend.client_id, rsa_key(), "RS384", kid="k1", **{claim: value}
    )
    response = await ask_token(client, assertion_form(token))
    await refused(response, 401, "invalid_client")


async def test_a_signed_assertion_whose_jti_holds_nul_is_invalid_client(
    client: TestClient, conn: asyncpg.Connection, network: Network, settings: Settings
) -> None:
    backend = await backend_client(conn, network, rsa_key(), "k1")
    token = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1", jti="a\0b")
    body = await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")
    assert "jti" in body["error_description"]
    # The same client with a good assertion still gets its token: nothing was left half done.
    good = client_assertion(settings, backend.client_id, rsa_key(), "RS384", kid="k1")
    await granted(await ask_token(client, assertion_form(good)))


async def test_an_assertion_whose_issuer_holds_nul_is_invalid_client(
    client: TestClient, settings: Settings
) -> None:
    token = client_assertion(settings, "a\x00b", rsa_key(), "RS384", kid="k1")
    body = await refused(await ask_token(client, assertion_form(token)), 401, "invalid_client")
    assert "iss" in body["error_description"]
