"""Unit tests for the claims telehub.auth reads: lifetimes, types, numbers and audiences."""

from __future__ import annotations

import hmac
import time
import uuid
from functools import cache
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from telehub.auth import (
    CLOCK_SKEW,
    KIND_SCOPES,
    SPOKE_ONLY_SCOPES,
    Caller,
    InvalidToken,
    issue_access_token,
    read_access_token,
    unverified_assertion_issuer,
    verify_client_assertion,
)
from telehub.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://unused", secret_key="k" * 40, base_url="http://telehub.test"
)
TTL = SETTINGS.access_token_ttl
CLIENT_ID = "th_backend_client"
SPOKE = Caller("spoke", "th_spoke_client", frozenset({"bookings:read", "slots:read"}), spoke_id=7)
CONSULTANT = Caller("consultant", "th_c", frozenset({"slots:read"}), consultant_id=3)


# --- small helpers ---------------------------------------------------------------------------


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token, read without checking anything."""
    return jwt.decode(token, options={"verify_signature": False})


def signed(claims: dict[str, Any]) -> str:
    """Claims signed with the service's own access-token key, as only the service can."""
    key = hmac.new(SETTINGS.secret_key.encode(), b"telehub access token v1", "sha256").digest()
    return jwt.encode(claims, key, algorithm="HS256")


def token_with(caller: Caller = SPOKE, **changes: Any) -> str:
    """A token the service issued now, with some claims changed (None drops one), re-signed."""
    claims = {**claims_of(issue_access_token(SETTINGS, caller)), **changes}
    return signed({k: v for k, v in claims.items() if v is not None})


@cache
def rsa_key() -> rsa.RSAPrivateKey:
    """The backend client's RS384 key, generated once."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwks() -> dict[str, Any]:
    """The JWK Set the backend client registered."""
    return {"keys": [{**RSAAlgorithm.to_jwk(rsa_key().public_key(), as_dict=True), "kid": "k1"}]}


def assertion(**changes: Any) -> str:
    """A valid RS384 client assertion from CLIENT_ID, with some claims changed."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": SETTINGS.token_endpoint,
        "iat": now,
        "exp": now + 240,
        "jti": uuid.uuid4().hex,
        **changes,
    }
    return jwt.encode(claims, rsa_key(), algorithm="RS384", headers={"kid": "k1"})


def verify(token: str) -> float:
    """When the assertion expires, if the token endpoint would accept it."""
    found = verify_client_assertion(SETTINGS, token, CLIENT_ID, jwks(), now=time.time())
    return found.expires_at


# --- access tokens: no longer than the service issues ----------------------------------------


def test_a_token_the_service_issued_is_read() -> None:
    assert read_access_token(SETTINGS, issue_access_token(SETTINGS, SPOKE)) == SPOKE


def test_a_token_signed_with_the_service_key_that_lasts_a_year_is_refused() -> None:
    now = int(time.time())
    with pytest.raises(InvalidToken, match="longer than this service issues"):
        read_access_token(SETTINGS, token_with(iat=now, nbf=now, exp=now + 365 * 86400))


def test_a_token_lasting_a_little_longer_than_the_ttl_is_within_the_clock_skew() -> None:
    now = int(time.time())
    token = token_with(iat=now, exp=now + TTL + CLOCK_SKEW)
    assert read_access_token(SETTINGS, token) == SPOKE


def test_a_token_lasting_longer_than_the_ttl_and_the_skew_is_refused() -> None:
    now = int(time.time())
    with pytest.raises(InvalidToken, match="longer than this service issues"):
        read_access_token(SETTINGS, token_with(iat=now, exp=now + TTL + CLOCK_SKEW + 1))


def test_a_token_issued_long_ago_that_expires_soon_is_refused() -> None:
    # A back-dated iat cannot stretch the lifetime either: exp - iat is what counts.
    now = int(time.time())
    with pytest.raises(InvalidToken, match="longer than this service issues"):
        read_access_token(SETTINGS, token_with(iat=now - 86400, exp=now + 60))


def test_a_token_issued_under_a_longer_ttl_is_refused_by_a_service_with_a_shorter_one() -> None:
    hourly = Settings(
        database_url="postgresql://unused",
        secret_key="k" * 40,
        base_url="http://telehub.test",
        access_token_ttl=3600,
    )
    token = issue_access_token(hourly, SPOKE)
    assert read_access_token(hourly, token) == SPOKE
    with pytest.raises(InvalidToken):
        read_access_token(SETTINGS, token)


def test_a_token_without_iat_is_refused() -> None:
    with pytest.raises(InvalidToken, match="iat"):
        read_access_token(SETTINGS, token_with(iat=None))


# --- access tokens: claims of the wrong type -------------------------------------------------


@pytest.mark.parametrize(
    ("caller", "changes"),
    [
        pytest.param(SPOKE, {"spoke_id": True}, id="spoke_id-true"),
        pytest.param(SPOKE, {"spoke_id": "7"}, id="spoke_id-string"),
        pytest.param(SPOKE, {"spoke_id": 7.0}, id="spoke_id-float"),
        pytest.param(SPOKE, {"spoke_id": 0}, id="spoke_id-zero"),
        pytest.param(SPOKE, {"spoke_id": -7}, id="spoke_id-negative"),
        pytest.param(SPOKE, {"spoke_id": [7]}, id="spoke_id-list"),
        pytest.param(CONSULTANT, {"consultant_id": True}, id="consultant_id-true"),
        pytest.param(CONSULTANT, {"consultant_id": {"id": 3}}, id="consultant_id-object"),
        pytest.param(SPOKE, {"scope": ["bookings:read", "slots:read"]}, id="scope-list"),
        pytest.param(SPOKE, {"scope": 7}, id="scope-number"),
        pytest.param(SPOKE, {"kind": ["spoke"]}, id="kind-list"),
        pytest.param(SPOKE, {"kind": {"spoke": 1}}, id="kind-object"),
        pytest.param(SPOKE, {"sub": 12}, id="sub-number"),
        pytest.param(SPOKE, {"jti": 12}, id="jti-number"),
        pytest.param(SPOKE, {"iat": True}, id="iat-true"),
        pytest.param(SPOKE, {"iat": str(int(time.time()))}, id="iat-string-of-digits"),
        pytest.param(SPOKE, {"exp": str(int(time.time()) + 60)}, id="exp-string-of-digits"),
        pytest.param(SPOKE, {"nbf": "0"}, id="nbf-string"),
        pytest.param(SPOKE, {"nbf": float("nan")}, id="nbf-nan"),
        pytest.param(SPOKE, {"exp": float("inf")}, id="exp-infinity"),
    ],
)
def test_a_claim_of_the_wrong_type_is_refused(caller: Caller, changes: dict[str, Any]) -> None:
    with pytest.raises(InvalidToken):
        read_access_token(SETTINGS, token_with(caller, **changes))


def test_an_id_claim_of_null_counts_as_absent() -> None:
    # The kind check then refuses a spoke without its clinic, as before.
    with pytest.raises(InvalidToken, match="caller kind"):
        read_access_token(SETTINGS, token_with(spoke_id=None))


# --- client assertions: NumericDates, jti and iss --------------------------------------------


@pytest.mark.parametrize("claim", ["exp", "iat", "nbf"])
@pytest.mark.parametrize(
    "value",
    [
        pytest.param(float("nan"), id="NaN"),
        pytest.param(float("inf"), id="Infinity"),
        pytest.param(float("-inf"), id="-Infinity"),
        pytest.param("1700000000", id="string"),
        pytest.param(True, id="true"),
        pytest.param(None, id="null"),
        pytest.param([1], id="list"),
    ],
)
def test_an_assertion_date_that_is_not_a_finite_number_is_refused(claim: str, value: Any) -> None:
    token = assertion(**{claim: value})
    assert claims_of(token)[claim] is not None or value is None  # really sent as given
    with pytest.raises(InvalidToken):
        verify(token)


def test_an_assertion_with_a_fractional_expiry_is_accepted() -> None:
    exp = time.time() + 120.5
    assert verify(assertion(exp=exp)) == pytest.approx(exp)


@pytest.mark.parametrize("jti", ["a\x00b", "line\nbreak", "", "x" * 256, 12])
def test_an_assertion_jti_that_cannot_be_stored_is_refused(jti: Any) -> None:
    with pytest.raises(InvalidToken, match=r"(?i)jti|JWT ID"):
        verify(assertion(jti=jti))


@pytest.mark.parametrize("iss", ["a\x00b", "th_\x7fclient", "th_clïent"])
def test_an_assertion_issuer_that_is_no_client_id_is_refused_before_any_lookup(iss: str) -> None:
    with pytest.raises(InvalidToken, match="iss"):
        unverified_assertion_issuer(assertion(iss=iss, sub=iss))


# --- client assertions: audience (RFC 7523 section 3) ----------------------------------------


@pytest.mark.parametrize(
    "aud",
    [
        pytest.param(SETTINGS.token_endpoint, id="token-endpoint"),
        pytest.param(SETTINGS.issuer, id="issuer"),
        pytest.param([SETTINGS.issuer], id="issuer-in-a-list"),
        pytest.param(["http://elsewhere.test", SETTINGS.token_endpoint], id="one-of-two"),
    ],
)
def test_an_assertion_for_the_token_endpoint_or_the_issuer_is_accepted(aud: Any) -> None:
    verify(assertion(aud=aud))


@pytest.mark.parametrize(
    "aud",
    [
        pytest.param(SETTINGS.audience, id="the-api-audience"),
        pytest.param(SETTINGS.issuer + "/", id="issuer-with-a-slash"),
        pytest.param("http://elsewhere.test/oauth/token", id="another-server"),
    ],
)
def test_an_assertion_for_another_audience_is_refused(aud: str) -> None:
    with pytest.raises(InvalidToken, match=r"(?i)audience"):
        verify(assertion(aud=aud))


# --- scopes a kind of caller can use ---------------------------------------------------------


def test_a_hub_token_is_never_granted_scopes_only_a_clinic_can_use() -> None:
    assert KIND_SCOPES["hub_admin"].isdisjoint(SPOKE_ONLY_SCOPES)
    assert SPOKE_ONLY_SCOPES.issubset(KIND_SCOPES["spoke"])
    assert KIND_SCOPES["consultant"].isdisjoint(SPOKE_ONLY_SCOPES)


def test_patient_scopes_in_a_hub_token_are_dropped_when_read() -> None:
    greedy = Caller("hub_admin", "hub-1", frozenset({"services:write", "patients:read"}))
    read = read_access_token(SETTINGS, issue_access_token(SETTINGS, greedy))
    assert read.scopes == frozenset({"services:write"})
