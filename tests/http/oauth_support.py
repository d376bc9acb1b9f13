"""Helpers for the token endpoint's tests: credentials, assertions, and reading answers."""

from __future__ import annotations

import base64
import time
import uuid
from functools import cache
from typing import Any

import asyncpg
import jwt
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from telehub.auth import ASSERTION_TYPE, KIND_SCOPES
from telehub.clients import ApiClient, create_client
from telehub.settings import Settings
from tests.factories import Network

TOKEN = "/oauth/token"
GRANT = {"grant_type": "client_credentials"}
SPOKE_SCOPES = " ".join(sorted(KIND_SCOPES["spoke"]))

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


# --- small helpers ---------------------------------------------------------------------------


def basic(client_id: str, secret: str) -> dict[str, str]:
    """An HTTP Basic Authorization header (client_secret_basic)."""
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def bearer(token: str) -> dict[str, str]:
    """A bearer Authorization header."""
    return {"Authorization": f"Bearer {token}"}


async def ask_token(
    client: TestClient, form: dict[str, str], headers: dict[str, str] | None = None
) -> ClientResponse:
    """POST a form-encoded token request."""
    return await client.post(TOKEN, data={**GRANT, **form}, headers=headers or {})


async def granted(response: ClientResponse) -> dict[str, Any]:
    """The body of a successful token response, after checking its shape and headers."""
    assert response.status == 200, await response.text()
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 300
    assert isinstance(body["access_token"], str)
    return body


async def refused(response: ClientResponse, status: int, error: str) -> dict[str, Any]:
    """The RFC 6749 error body of a refused token request, after checking its shape."""
    assert response.status == status, await response.text()
    assert response.content_type == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    body = await response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error
    assert isinstance(body["error_description"], str) and body["error_description"]
    if status == 401:  # a challenge on every 401, whatever way the client authenticated
        assert response.headers["WWW-Authenticate"] == 'Basic realm="telehub"'
    return {**body, "detail": body["error_description"]}  # callers read it as `detail`


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """A 2048-bit RSA key for RS384, generated once."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key() -> ec.EllipticCurvePrivateKey:
    """A P-384 key for ES384, generated once."""
    return ec.generate_private_key(ec.SECP384R1())


def jwks_of(key: PrivateKey, kid: str) -> dict[str, Any]:
    """A JWK Set holding the public half of one key."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {"keys": [{**jwk, "kid": kid}]}


def client_assertion(
    settings: Settings,
    client_id: str,
    key: PrivateKey,
    algorithm: str,
    *,
    kid: str,
    exp_in: int = 240,
    jti: str | None = None,
    **changes: Any,
) -> str:
    """A SMART Backend Services client assertion: iss = sub = client id, aud = token endpoint;
    `changes` replace claims as given (NaN and Infinity too)."""
    now = int(time.time())
    claims = {
        "iss": client_id,
        "sub": client_id,
        "aud": settings.token_endpoint,
        "iat": now,
        "exp": now + exp_in,
        "jti": jti or uuid.uuid4().hex,
        **changes,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


def assertion_form(token: str) -> dict[str, str]:
    """The form fields of private_key_jwt client authentication."""
    return {"client_assertion_type": ASSERTION_TYPE, "client_assertion": token}


async def backend_client(
    conn: asyncpg.Connection, network: Network, key: PrivateKey, kid: str
) -> ApiClient:
    """A spoke's backend client registered with a public key and no secret."""
    spoke = await network.spoke()
    registered, secret = await create_client(
        conn,
        name="Clinic backend",
        kind="spoke",
        spoke_id=spoke.id,
        jwks=jwks_of(key, kid),
        with_secret=False,
    )
    assert secret is None
    return registered
