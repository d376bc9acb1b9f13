"""The API refuses forged, foreign, expired and edited bearer tokens (401) and missing scopes."""

from __future__ import annotations

import base64
import hmac
import json
import time
from collections.abc import Callable
from typing import Any

import asyncpg
import jwt
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from telehub.auth import Caller, issue_access_token
from telehub.settings import Settings
from tests.factories import Network, SpokeUser

BOOKINGS = "/api/v1/bookings"
NEW_SERVICE = {
    "kind": "econsult",
    "name": "Perinatal psychiatry e-consult",
    "duration_minutes": 30,
    "turnaround_hours": 48,
    "roles": ["psychiatric_consultant"],
}


# --- small helpers ---------------------------------------------------------------------------


def b64url_json(value: dict[str, Any]) -> str:
    """One unpadded base64url JSON segment of a JWT."""
    raw = json.dumps(value, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token, read without checking anything."""
    return jwt.decode(token, options={"verify_signature": False})


def service_key(settings: Settings) -> bytes:
    """The key the service signs access tokens with: HMAC-derived from the secret key."""
    return hmac.new(settings.secret_key.encode(), b"telehub access token v1", "sha256").digest()


def resign(settings: Settings, token: str, **changes: Any) -> str:
    """The token's claims with some changed, correctly signed with the service's own key."""
    return jwt.encode({**claims_of(token), **changes}, service_key(settings), algorithm="HS256")


def bearer(token: str) -> dict[str, str]:
    """A bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


async def assert_unauthorized(response: ClientResponse) -> dict[str, Any]:
    """Check a 401 problem document with a Bearer challenge; return the body."""
    assert response.status == 401, await response.text()
    assert response.content_type == "application/problem+json"
    assert response.headers["WWW-Authenticate"].startswith("Bearer ")
    body = await response.json()
    assert body["status"] == 401
    assert body["title"] == "Authentication required"
    assert "bookings" not in body and "services" not in body
    return body


async def service_count(conn: asyncpg.Connection) -> int:
    """How many services exist."""
    return await conn.fetchval("SELECT count(*) FROM services")


@pytest.fixture
async def spoke_user(network: Network) -> SpokeUser:
    """A spoke clinic with a client secret and a valid token carrying every spoke scope."""
    return await network.spoke()


# --- forged and stale tokens, each one change away from the spoke's valid token -------------

BadToken = Callable[[Settings, str], str]


def _alg_none(settings: Settings, token: str) -> str:
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims_of(token))}."


def _wrong_key(settings: Settings, token: str) -> str:
    return jwt.encode(claims_of(token), b"another-deployment-key-" + b"x" * 16, algorithm="HS256")


def _raw_secret_key(settings: Settings, token: str) -> str:
    return jwt.encode(claims_of(token), settings.secret_key, algorithm="HS256")


def _wrong_audience(settings: Settings, token: str) -> str:
    return resign(settings, token, aud="http://telehub.test/oauth/token")


def _wrong_issuer(settings: Settings, token: str) -> str:
    return resign(settings, token, iss="http://evil.test")


def _expired(settings: Settings, token: str) -> str:
    claims = claims_of(token)
    caller = Caller("spoke", claims["sub"], frozenset(claims["scope"].split()), claims["spoke_id"])
    return issue_access_token(settings, caller, now=time.time() - 3600)


def _scope_edited(settings: Settings, token: str) -> str:
    header, _, signature = token.split(".")
    claims = claims_of(token)
    claims["scope"] = "bookings:read services:write"
    return f"{header}.{b64url_json(claims)}.{signature}"


def _kind_edited(settings: Settings, token: str) -> str:
    header, _, signature = token.split(".")
    claims = {**claims_of(token), "kind": "hub_admin"}
    del claims["spoke_id"]
    return f"{header}.{b64url_json(claims)}.{signature}"


def _truncated_signature(settings: Settings, token: str) -> str:
    return token[:-4]


def _lasts_a_year(settings: Settings, token: str) -> str:
    issued = int(time.time())
    return resign(settings, token, iat=issued, nbf=issued, exp=issued + 365 * 86400)


def _without_iat(settings: Settings, token: str) -> str:
    claims = claims_of(token)
    del claims["iat"]
    return jwt.encode(claims, service_key(settings), algorithm="HS256")


def _spoke_id_true(settings: Settings, token: str) -> str:
    return resign(settings, token, spoke_id=True)


def _scope_a_list(settings: Settings, token: str) -> str:
    return resign(settings, token, scope=claims_of(token)["scope"].split())


def _kind_a_list(settings: Settings, token: str) -> str:
    return resign(settings, token, kind=["spoke"])


def _exp_nan(settings: Settings, token: str) -> str:
    return resign(settings, token, exp=float("nan"))


@pytest.mark.parametrize(
    "make_bad",
    [
        pytest.param(_alg_none, id="alg-none"),
        pytest.param(_wrong_key, id="wrong-key"),
        pytest.param(_raw_secret_key, id="raw-secret-key-not-derived-key"),
        pytest.param(_wrong_audience, id="wrong-audience"),
        pytest.param(_wrong_issuer, id="wrong-issuer"),
        pytest.param(_expired, id="expired"),
        pytest.param(_scope_edited, id="scope-edited"),
        pytest.param(_kind_edited, id="kind-edited-to-hub-admin"),
        pytest.param(_truncated_signature, id="truncated-signature"),
        pytest.param(_lasts_a_year, id="signed-by-the-service-but-lasting-a-year"),
        pytest.param(_without_iat, id="without-iat"),
        pytest.param(_spoke_id_true, id="spoke-id-true"),
        pytest.param(_scope_a_list, id="scope-a-list"),
        pytest.param(_kind_a_list, id="kind-a-list"),
        pytest.param(_exp_nan, id="exp-nan"),
    ],
)
async def test_a_bad_bearer_token_is_refused_with_401(
    client: TestClient, network: Network, settings: Settings, make_bad: BadToken
) -> None:
    spoke = await network.spoke()
    bad = make_bad(settings, spoke.token)
    assert bad != spoke.token
    response = await client.get(BOOKINGS, headers=bearer(bad))
    body = await assert_unauthorized(response)
    assert body["detail"].startswith("the access token was refused")
    assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


async def test_the_valid_token_the_forgeries_start_from_is_accepted(
    client: TestClient, network: Network, settings: Settings
) -> None:
    spoke = await network.spoke()
    for token in (spoke.token, resign(settings, spoke.token)):
        response = await client.get(BOOKINGS, headers=bearer(token))
        assert response.status == 200, await response.text()
        assert await response.json() == {"bookings": [], "next_cursor": None}


# --- missing or non-bearer credentials -------------------------------------------------------


@pytest.mark.parametrize(
    "headers",
    [
        pytest.param({}, id="no-authorization-header"),
        pytest.param({"Authorization": "Bearer"}, id="bearer-without-token"),
        pytest.param({"Authorization": "Bearer   "}, id="bearer-with-blank-token"),
    ],
)
async def test_a_request_without_a_bearer_token_is_refused_with_401(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = await client.get(BOOKINGS, headers=headers)
    body = await assert_unauthorized(response)
    assert "bearer access token is required" in body["detail"]
    # RFC 6750 section 3.1: no error code when the request carried no token at all.
    assert "error=" not in response.headers["WWW-Authenticate"]


async def test_basic_credentials_are_refused_with_401_on_the_api(
    client: TestClient, spoke_user: SpokeUser
) -> None:
    userpass = f"{spoke_user.client_id}:{spoke_user.client_secret}".encode()
    basic = {"Authorization": "Basic " + base64.b64encode(userpass).decode()}
    body = await assert_unauthorized(await client.get(BOOKINGS, headers=basic))
    assert "bearer access token is required" in body["detail"]


async def test_the_spoke_token_as_a_different_scheme_is_refused_with_401(
    client: TestClient, spoke_user: SpokeUser
) -> None:
    token_scheme = {"Authorization": f"Token {spoke_user.token}"}
    await assert_unauthorized(await client.get(BOOKINGS, headers=token_scheme))


# --- valid token, missing scope --------------------------------------------------------------


async def test_a_spoke_token_cannot_create_a_service_and_nothing_is_written(
    client: TestClient, conn: asyncpg.Connection, network: Network, spoke_user: SpokeUser
) -> None:
    before = await service_count(conn)
    response = await client.post("/api/v1/services", json=NEW_SERVICE, headers=spoke_user.headers)
    assert response.status == 403, await response.text()
    assert response.content_type == "application/problem+json"
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
    assert 'scope="services:write"' in response.headers["WWW-Authenticate"]
    body = await response.json()
    assert body["status"] == 403
    assert body["required_scope"] == "services:write"
    assert "services:write" in body["detail"]
    assert await service_count(conn) == before

    # The same body from a hub admin is valid, so the 403 was about the scope alone.
    admin = await client.post(
        "/api/v1/services", json=NEW_SERVICE, headers=network.hub_admin_headers()
    )
    assert admin.status == 201, await admin.text()
    assert await service_count(conn) == before + 1
