"""Unit tests for telehub.auth: access tokens, client assertions, JWK Sets and passwords."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from telehub.auth import (
    KIND_SCOPES,
    Assertion,
    Caller,
    InvalidToken,
    hash_password,
    issue_access_token,
    parse_jwks,
    password_matches,
    read_access_token,
    verify_client_assertion,
)
from telehub.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://unused", secret_key="k" * 40, base_url="http://telehub.test"
)
OTHER_DEPLOYMENT = Settings(
    database_url="postgresql://unused", secret_key="o" * 40, base_url="http://telehub.test"
)
CLIENT_ID = "th_backend_client"
SPOKE = Caller("spoke", "th_spoke_client", frozenset({"bookings:read", "slots:read"}), spoke_id=7)

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


# --- small helpers ---------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """Unpadded base64url, as JWTs use."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64url_json(value: dict[str, Any]) -> str:
    """One base64url-encoded JSON segment of a JWT."""
    return b64url(json.dumps(value, separators=(",", ":")).encode())


def claims_of(token: str) -> dict[str, Any]:
    """The claims of a token, read without checking anything."""
    return jwt.decode(token, options={"verify_signature": False})


def service_key(settings: Settings = SETTINGS) -> bytes:
    """The key the service signs access tokens with: HMAC-derived from the secret key."""
    return hmac.new(settings.secret_key.encode(), b"telehub access token v1", "sha256").digest()


def resign(token: str, **changes: Any) -> str:
    """The token's claims with some changed, correctly signed with the service's own key."""
    return jwt.encode({**claims_of(token), **changes}, service_key(), algorithm="HS256")


@cache
def rsa_key(name: str = "client") -> rsa.RSAPrivateKey:
    """A 2048-bit RSA private key, generated once per name."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@cache
def ec_key(name: str = "client") -> ec.EllipticCurvePrivateKey:
    """A P-384 EC private key (what ES384 needs), generated once per name."""
    return ec.generate_private_key(ec.SECP384R1())


def public_jwk(key: PrivateKey, kid: str) -> dict[str, Any]:
    """The public half of a key as a JWK with a key id."""
    if isinstance(key, rsa.RSAPrivateKey):
        jwk = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    else:
        jwk = ECAlgorithm.to_jwk(key.public_key(), as_dict=True)
    return {**jwk, "kid": kid}


def client_jwks() -> dict[str, Any]:
    """The JWK Set the backend client registered: one RSA and one EC public key."""
    return {"keys": [public_jwk(rsa_key(), "rsa-1"), public_jwk(ec_key(), "ec-1")]}


def assertion(
    key: PrivateKey | None = None,
    *,
    algorithm: str = "RS384",
    kid: str | None = "rsa-1",
    now: float | None = None,
    **changes: Any,
) -> str:
    """A client assertion from CLIENT_ID; a change of None drops that claim."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": CLIENT_ID,
        "sub": CLIENT_ID,
        "aud": SETTINGS.token_endpoint,
        "iat": issued,
        "exp": issued + 240,
        "jti": uuid.uuid4().hex,
    }
    claims.update(changes)
    claims = {k: v for k, v in claims.items() if v is not None}
    headers = {"kid": kid} if kid is not None else {}
    return jwt.encode(claims, key or rsa_key(), algorithm=algorithm, headers=headers)


def verify(token: str) -> Assertion:
    """Check an assertion against the client's registered keys as the token endpoint does."""
    return verify_client_assertion(SETTINGS, token, CLIENT_ID, client_jwks(), now=time.time())


# --- access tokens ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "caller",
    [
        pytest.param(SPOKE, id="spoke"),
        pytest.param(Caller("hub_admin", "hub-1", KIND_SCOPES["hub_admin"]), id="hub-admin"),
        pytest.param(
            Caller("consultant", "c-3", frozenset({"slots:read"}), consultant_id=3),
            id="consultant",
        ),
    ],
)
def test_an_issued_token_reads_back_as_the_same_caller(caller: Caller) -> None:
    assert read_access_token(SETTINGS, issue_access_token(SETTINGS, caller)) == caller


def test_an_issued_token_carries_issuer_audience_expiry_scope_and_kind() -> None:
    claims = claims_of(issue_access_token(SETTINGS, SPOKE, now=1_800_000_000))
    assert claims["iss"] == "http://telehub.test"
    assert claims["aud"] == "http://telehub.test/api"
    assert claims["exp"] == 1_800_000_000 + SETTINGS.access_token_ttl
    assert claims["scope"] == "bookings:read slots:read"
    assert (claims["kind"], claims["spoke_id"]) == ("spoke", 7)


def test_a_token_re_signed_with_the_service_key_is_accepted() -> None:
    # The control for the forgeries below: re-signing alone does not make a token invalid.
    assert read_access_token(SETTINGS, resign(issue_access_token(SETTINGS, SPOKE))) == SPOKE


def test_scopes_beyond_what_the_kind_allows_are_dropped_when_read() -> None:
    greedy = Caller("spoke", "th_x", frozenset({"bookings:read", "services:write"}), spoke_id=1)
    read = read_access_token(SETTINGS, issue_access_token(SETTINGS, greedy))
    assert read.scopes == frozenset({"bookings:read"})


def _alg_none_by_hand() -> str:
    claims = claims_of(issue_access_token(SETTINGS, SPOKE))
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}."


def _alg_none_by_pyjwt() -> str:
    return jwt.encode(claims_of(issue_access_token(SETTINGS, SPOKE)), None, algorithm="none")


def _wrong_key() -> str:
    return issue_access_token(OTHER_DEPLOYMENT, SPOKE)


def _wrong_audience() -> str:
    return resign(issue_access_token(SETTINGS, SPOKE), aud="http://telehub.test/other")


def _wrong_issuer() -> str:
    return resign(issue_access_token(SETTINGS, SPOKE), iss="http://evil.test")


def _expired() -> str:
    return issue_access_token(SETTINGS, SPOKE, now=time.time() - SETTINGS.access_token_ttl - 120)


def _scope_added_to_payload() -> str:
    header, payload, signature = issue_access_token(SETTINGS, SPOKE).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["scope"] += " bookings:write"
    return f"{header}.{b64url_json(claims)}.{signature}"


def _spoke_without_spoke_id() -> str:
    return issue_access_token(SETTINGS, Caller("spoke", "th_x", frozenset({"slots:read"})))


def _signed_with_raw_secret_key() -> str:
    claims = claims_of(issue_access_token(SETTINGS, SPOKE))
    return jwt.encode(claims, SETTINGS.secret_key, algorithm="HS256")


def _rs256() -> str:
    return jwt.encode(claims_of(issue_access_token(SETTINGS, SPOKE)), rsa_key(), algorithm="RS256")


def _unknown_kind() -> str:
    return resign(issue_access_token(SETTINGS, SPOKE), kind="superuser")


def _garbage() -> str:
    return "not.a.jwt"


@pytest.mark.parametrize(
    "make_token",
    [
        pytest.param(_alg_none_by_hand, id="alg-none-by-hand"),
        pytest.param(_alg_none_by_pyjwt, id="alg-none-by-pyjwt"),
        pytest.param(_wrong_key, id="signed-by-another-deployment"),
        pytest.param(_wrong_audience, id="wrong-audience"),
        pytest.param(_wrong_issuer, id="wrong-issuer"),
        pytest.param(_expired, id="expired"),
        pytest.param(_scope_added_to_payload, id="scope-edited-into-payload"),
        pytest.param(_spoke_without_spoke_id, id="spoke-without-spoke-id"),
        pytest.param(_signed_with_raw_secret_key, id="signed-with-raw-secret-key"),
        pytest.param(_rs256, id="rs256"),
        pytest.param(_unknown_kind, id="unknown-kind"),
        pytest.param(_garbage, id="not-a-jwt"),
    ],
)
def test_a_bad_access_token_is_refused(make_token: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        read_access_token(SETTINGS, make_token())


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "scope", "kind"])
def test_a_token_missing_a_required_claim_is_refused(claim: str) -> None:
    claims = claims_of(issue_access_token(SETTINGS, SPOKE))
    del claims[claim]
    with pytest.raises(InvalidToken):
        read_access_token(SETTINGS, jwt.encode(claims, service_key(), algorithm="HS256"))


def test_a_hub_admin_token_carrying_a_spoke_id_is_refused() -> None:
    admin = issue_access_token(SETTINGS, Caller("hub_admin", "hub-1", frozenset()))
    with pytest.raises(InvalidToken, match="caller kind"):
        read_access_token(SETTINGS, resign(admin, spoke_id=3))


# --- client assertions (SMART Backend Services private_key_jwt) ------------------------------


def test_a_valid_rs384_assertion_is_accepted() -> None:
    token = assertion(rsa_key(), algorithm="RS384", kid="rsa-1", jti="jti-rs384")
    verified = verify(token)
    assert verified.jti == "jti-rs384"
    assert verified.expires_at == float(claims_of(token)["exp"])


def test_a_valid_es384_assertion_is_accepted() -> None:
    token = assertion(ec_key(), algorithm="ES384", kid="ec-1", jti="jti-es384")
    assert verify(token).jti == "jti-es384"


def test_an_assertion_without_kid_is_checked_against_every_registered_key() -> None:
    assert verify(assertion(ec_key(), algorithm="ES384", kid=None, jti="no-kid")).jti == "no-kid"


def test_an_assertion_expiring_in_exactly_five_minutes_is_accepted() -> None:
    now = int(time.time())
    assert verify(assertion(now=now, exp=now + 300, jti="five")).jti == "five"


def _rs256_assertion() -> str:
    return assertion(rsa_key(), algorithm="RS256")


def _hs384_with_public_key_as_secret() -> str:
    # The classic algorithm-confusion attack, built by hand since PyJWT refuses to sign it.
    secret = json.dumps(public_jwk(rsa_key(), "rsa-1")).encode()
    signing_input = (
        f"{b64url_json({'alg': 'HS384', 'kid': 'rsa-1'})}.{b64url_json(claims_of(assertion()))}"
    )
    signature = hmac.new(secret, signing_input.encode(), "sha384").digest()
    return f"{signing_input}.{b64url(signature)}"


def _expired_assertion() -> str:
    return assertion(now=time.time() - 600)


def _ten_minutes_ahead() -> str:
    return assertion(exp=int(time.time()) + 600)


def _wrong_aud() -> str:
    return assertion(aud="http://telehub.test/api")


def _iss_not_client_id() -> str:
    return assertion(iss="th_someone_else")


def _sub_not_client_id() -> str:
    return assertion(sub="th_someone_else")


def _missing_jti() -> str:
    return assertion(jti=None)


def _missing_exp() -> str:
    return assertion(exp=None)


def _unregistered_rsa_key() -> str:
    return assertion(rsa_key("stranger"), kid="rsa-1")


def _unregistered_ec_key_without_kid() -> str:
    return assertion(ec_key("stranger"), algorithm="ES384", kid=None)


def _unknown_kid() -> str:
    return assertion(rsa_key(), kid="rsa-2")


def _alg_none_assertion() -> str:
    claims = claims_of(assertion())
    return f"{b64url_json({'alg': 'none', 'typ': 'JWT'})}.{b64url_json(claims)}."


@pytest.mark.parametrize(
    "make_assertion",
    [
        pytest.param(_rs256_assertion, id="rs256"),
        pytest.param(_hs384_with_public_key_as_secret, id="hs384-public-key-as-secret"),
        pytest.param(_alg_none_assertion, id="alg-none"),
        pytest.param(_expired_assertion, id="expired"),
        pytest.param(_ten_minutes_ahead, id="exp-ten-minutes-ahead"),
        pytest.param(_wrong_aud, id="aud-is-not-the-token-endpoint"),
        pytest.param(_iss_not_client_id, id="iss-is-not-the-client-id"),
        pytest.param(_sub_not_client_id, id="sub-is-not-the-client-id"),
        pytest.param(_missing_jti, id="no-jti"),
        pytest.param(_missing_exp, id="no-exp"),
        pytest.param(_unregistered_rsa_key, id="unregistered-rsa-key"),
        pytest.param(_unregistered_ec_key_without_kid, id="unregistered-ec-key-no-kid"),
        pytest.param(_unknown_kid, id="unknown-kid"),
    ],
)
def test_a_bad_client_assertion_is_refused(make_assertion: Callable[[], str]) -> None:
    with pytest.raises(InvalidToken):
        verify(make_assertion())


@pytest.mark.parametrize(
    ("make_assertion", "words"),
    [
        pytest.param(_expired_assertion, "expired", id="expired"),
        pytest.param(_wrong_aud, "audience", id="wrong-aud"),
        pytest.param(_missing_jti, "jti", id="no-jti"),
        pytest.param(_unregistered_rsa_key, "registered key", id="unregistered-key"),
    ],
)
def test_a_refused_assertion_says_what_is_wrong_with_it(
    make_assertion: Callable[[], str], words: str
) -> None:
    with pytest.raises(InvalidToken, match=f"(?i){words}"):
        verify(make_assertion())


def test_assertion_expiry_is_judged_by_the_given_now() -> None:
    long_ago = 1_600_000_000.0
    token = assertion(now=long_ago)
    verified = verify_client_assertion(SETTINGS, token, CLIENT_ID, client_jwks(), now=long_ago)
    assert verified.expires_at == long_ago + 240
    with pytest.raises(InvalidToken, match="expired"):
        verify(token)


# --- JWK Sets --------------------------------------------------------------------------------


def test_a_jwks_of_rsa_and_ec_public_keys_is_accepted() -> None:
    assert parse_jwks(json.dumps(client_jwks())) == client_jwks()


@pytest.mark.parametrize(
    "jwks",
    [
        pytest.param(
            {"keys": [{**RSAAlgorithm.to_jwk(rsa_key(), as_dict=True), "kid": "k"}]},
            id="rsa-private-key",
        ),
        pytest.param(
            {"keys": [{**ECAlgorithm.to_jwk(ec_key(), as_dict=True), "kid": "k"}]},
            id="ec-private-key",
        ),
        pytest.param({"keys": []}, id="empty-set"),
        pytest.param({}, id="no-keys-member"),
        pytest.param([], id="not-an-object"),
        pytest.param({"keys": [{"kty": "oct", "k": b64url(b"s" * 32)}]}, id="symmetric-key"),
        pytest.param({"keys": [{"kty": "OKP", "crv": "Ed25519", "x": "AAAA"}]}, id="okp-key"),
        pytest.param({"keys": ["rsa"]}, id="key-not-an-object"),
    ],
)
def test_an_unusable_jwks_is_refused(jwks: Any) -> None:
    with pytest.raises(ValueError):
        parse_jwks(json.dumps(jwks))


# --- passwords -------------------------------------------------------------------------------


def test_a_password_matches_its_own_hash() -> None:
    stored = hash_password("correct horse battery staple")
    assert stored.startswith("$argon2id$")
    assert password_matches("correct horse battery staple", stored)


def test_a_wrong_password_does_not_match() -> None:
    assert not password_matches("correct horse battery stapler", hash_password("correct horse"))


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param("not-a-hash", id="garbage"),
        pytest.param("", id="empty"),
        pytest.param(hashlib.sha256(b"pw").hexdigest(), id="plain-sha256"),
    ],
)
def test_a_garbage_hash_matches_nothing(stored: str) -> None:
    assert not password_matches("pw", stored)
