"""Credentials: access-token JWTs, client secrets, client assertions, passwords, scopes.

JWTs are encoded and decoded only here, always with an explicit algorithm list, audience,
issuer and expiry.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from telehub.settings import Settings

CallerKind = Literal["hub_admin", "consultant", "spoke"]

ACCESS_TOKEN_ALGORITHMS = ["HS256"]
# SMART Backend Services: clients sign assertions with RS384 or ES384.
ASSERTION_ALGORITHMS = ["RS384", "ES384"]
ASSERTION_MAX_LIFETIME = 300
CLOCK_SKEW = 30
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

ALL_SCOPES = frozenset(
    {
        "services:read",
        "services:write",
        "consultants:read",
        "consultants:write",
        "availability:write",
        "slots:read",
        "patients:read",
        "patients:write",
        "bookings:read",
        "bookings:write",
        "bookings:outcome",
        "econsults:read",
        "econsults:write",
        "notes:read",
        "notes:write",
        "notes:acknowledge",
        "webhooks:write",
        "deliveries:read",
        "deliveries:write",
        "measures:read",
        "feeds:write",
        "groups:write",
        "registry:read",
        "registry:write",
        "consents:read",
        "consents:write",
    }
)

# Patients are kept by their clinic and only the referring clinic acknowledges its notes
# (spokes/patients.py, consults/notes.py): a hub token could hold these but never use them.
# The registry's episodes, measures and contacts are recorded by the patient's clinic (care/).
SPOKE_ONLY_SCOPES = frozenset(
    {"patients:read", "patients:write", "notes:acknowledge", "registry:write"}
)

# What each kind of caller may ever be granted (only scopes it can use); a client's own
# scopes are a subset, refused beyond it when the client is created and when a token is asked.
KIND_SCOPES: dict[CallerKind, frozenset[str]] = {
    "hub_admin": ALL_SCOPES - SPOKE_ONLY_SCOPES,
    "consultant": frozenset(
        {
            "services:read",
            "consultants:read",
            "availability:write",
            "slots:read",
            "bookings:read",
            "bookings:outcome",
            "econsults:read",
            "econsults:write",
            "notes:read",
            "notes:write",
            "feeds:write",
            "groups:write",
            "registry:read",
        }
    ),
    "spoke": frozenset(
        {
            "services:read",
            "consultants:read",
            "slots:read",
            "patients:read",
            "patients:write",
            "bookings:read",
            "bookings:write",
            "econsults:read",
            "econsults:write",
            "notes:read",
            "notes:acknowledge",
            "webhooks:write",
            "feeds:write",
            "registry:read",
            "registry:write",
            "consents:read",
            "consents:write",
        }
    ),
}


# SMART App Launch 2.x system scopes (Backend Services), mapped in this one table to the
# telehub scopes the FHIR face checks. A letter a resource does not list is not offered.
# v2 permissions are an ordered subset of "cruds"; the v1 spellings read/write/* are read
# as "rs", "cud" and "cruds". Search parameters in a scope (`?`) are not supported.
_READ = "rs"
SMART_SCOPES: dict[str, dict[str, str]] = {
    "Slot": dict.fromkeys(_READ, "slots:read"),
    "Schedule": dict.fromkeys(_READ, "slots:read"),
    "Appointment": {
        **dict.fromkeys(_READ, "bookings:read"),
        **dict.fromkeys("cud", "bookings:write"),
    },
    "Patient": dict.fromkeys(_READ, "patients:read"),
    "DocumentReference": dict.fromkeys(_READ, "notes:read"),
    "ServiceRequest": dict.fromkeys(_READ, "econsults:read"),
    "Task": dict.fromkeys(_READ, "econsults:read"),
    "Practitioner": dict.fromkeys(_READ, "consultants:read"),
    "PractitionerRole": dict.fromkeys(_READ, "consultants:read"),
    "HealthcareService": dict.fromkeys(_READ, "services:read"),
    "Organization": dict.fromkeys(_READ, "services:read"),
}
SMART_PERMISSIONS = "cruds"
_V1_PERMISSIONS = {"read": "rs", "write": "cud"}


def smart_scope_needs(scope: str) -> frozenset[str] | None:
    """The telehub scopes a SMART system scope needs, or None if it is not one telehub offers.

    `system/Appointment.rs` needs bookings:read; `system/Appointment.cruds` needs bookings:read
    and bookings:write; `system/Slot.read` (v1) is `system/Slot.rs`.
    """
    context, slash, rest = scope.partition("/")
    resource, dot, permissions = rest.partition(".")
    if context != "system" or not slash or not dot or resource not in SMART_SCOPES:
        return None
    table = SMART_SCOPES[resource]
    # v1 `*` is everything the resource offers; v1 read/write are the v2 letters they mean.
    everything = "".join(c for c in SMART_PERMISSIONS if c in table)
    letters = everything if permissions == "*" else _V1_PERMISSIONS.get(permissions, permissions)
    # v2: each letter at most once, in the order c r u d s, and only letters the resource has.
    ordered = "".join(c for c in SMART_PERMISSIONS if c in letters)
    if not letters or ordered != letters or any(c not in table for c in letters):
        return None
    return frozenset(table[c] for c in letters)


def smart_scopes_for(scopes: frozenset[str]) -> list[str]:
    """The SMART v2 system scopes whose telehub scopes all lie within `scopes`, each resource
    with its widest permissions (what a discovery document lists as supported)."""
    offered = []
    for resource, table in SMART_SCOPES.items():
        letters = "".join(c for c in SMART_PERMISSIONS if c in table and table[c] in scopes)
        if letters:
            offered.append(f"system/{resource}.{letters}")
    return offered


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: a hub admin, a hub system acting for one consultant, or a spoke."""

    kind: CallerKind
    client_id: str
    scopes: frozenset[str]
    spoke_id: int | None = None
    consultant_id: int | None = None
    user_id: int | None = None  # a person signed in to the web pages, not a system

    @property
    def actor(self) -> str:
        """How audit rows and logs name this caller (never a person's name)."""
        return f"user:{self.user_id}" if self.user_id else f"client:{self.client_id}"

    @property
    def is_hub_admin(self) -> bool:
        """True for the hub's administrators."""
        return self.kind == "hub_admin"


class InvalidToken(Exception):
    """An access token or client assertion that must be refused."""


def _access_key(settings: Settings) -> bytes:
    # A key derived for this one purpose, so the secret key can also sign other things safely.
    return hmac.new(settings.secret_key.encode(), b"telehub access token v1", "sha256").digest()


def issue_access_token(settings: Settings, caller: Caller, *, now: float | None = None) -> str:
    """A short-lived bearer JWT that carries the caller and its granted scopes."""
    issued = int(time.time() if now is None else now)
    claims: dict[str, Any] = {
        "iss": settings.issuer,
        "aud": settings.audience,
        "sub": caller.client_id,
        "iat": issued,
        "nbf": issued,
        "exp": issued + settings.access_token_ttl,
        "jti": uuid.uuid4().hex,
        "scope": " ".join(sorted(caller.scopes)),
        "kind": caller.kind,
    }
    if caller.spoke_id is not None:
        claims["spoke_id"] = caller.spoke_id
    if caller.consultant_id is not None:
        claims["consultant_id"] = caller.consultant_id
    return jwt.encode(claims, _access_key(settings), algorithm="HS256")


def _numeric_date(claims: dict[str, Any], name: str) -> float | None:
    """A NumericDate claim (RFC 7519 section 2) if present: a finite JSON number, never a
    boolean, string, NaN or Infinity (PyJWT would read `true` as 1 and `"5"` as 5)."""
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise InvalidToken(f"{name} must be a number of seconds")
    return float(value)


def _identifier(value: object) -> int | None:
    """An id claim: a positive JSON integer (`true` is not spoke 1), or absent."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidToken("spoke_id and consultant_id must be positive integers")
    return value


def _text(claims: dict[str, Any], name: str) -> str:
    value = claims[name]
    if not isinstance(value, str):
        raise InvalidToken(f"{name} must be a string")
    return value


# Tokens already verified in this process, with their expiry: a client sends the same token
# for its whole life (TELEHUB_ACCESS_TOKEN_TTL, 5 minutes by default), and checking its
# signature and claims again cost 8 % of a booking's server CPU. Keyed by everything the check
# depends on (the token and the settings that verify it), so a hit answers exactly as a full
# check would, the expiry being checked again on every use. Bounded; the oldest entry goes
# first (more live tokens than that only means more full checks).
_VERIFIED: dict[tuple[str, str, str, str, int], tuple[Caller, float]] = {}
_VERIFIED_MAX = 4096


def read_access_token(settings: Settings, token: str) -> Caller:
    """The caller a bearer token names; InvalidToken for anything not signed and current,
    lasting longer than this service issues, or with a claim of the wrong type."""
    ttl = settings.access_token_ttl
    key = (token, settings.secret_key, settings.audience, settings.issuer, ttl)
    known = _VERIFIED.get(key)
    if known is not None:
        caller, expires = known
        if time.time() < expires + CLOCK_SKEW:
            return caller
        del _VERIFIED[key]
        raise InvalidToken("Signature has expired")
    caller, expires = _verify_access_token(settings, token)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        del _VERIFIED[next(iter(_VERIFIED))]
    _VERIFIED[key] = (caller, expires)
    return caller


def _verify_access_token(settings: Settings, token: str) -> tuple[Caller, float]:
    if not is_vschar(token):
        # PyJWT would .encode() it: undecodable header bytes (lone surrogates) raise there.
        raise InvalidToken("an access token is printable ASCII")
    try:
        claims = jwt.decode(
            token,
            _access_key(settings),
            algorithms=ACCESS_TOKEN_ALGORITHMS,
            audience=settings.audience,
            issuer=settings.issuer,
            leeway=CLOCK_SKEW,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "scope", "kind"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    issued, expires = _numeric_date(claims, "iat"), _numeric_date(claims, "exp")
    _numeric_date(claims, "nbf")
    assert issued is not None and expires is not None  # required above
    # A token this service signed lives access_token_ttl seconds; a longer one was not issued
    # by it (or by a deployment with other settings), however valid its signature.
    if expires - issued > settings.access_token_ttl + CLOCK_SKEW:
        raise InvalidToken("the token lasts longer than this service issues tokens for")
    kind, subject, scope = _text(claims, "kind"), _text(claims, "sub"), _text(claims, "scope")
    if kind not in KIND_SCOPES:
        raise InvalidToken("unknown caller kind")
    if "jti" in claims:
        _text(claims, "jti")
    spoke_id = _identifier(claims.get("spoke_id"))
    consultant_id = _identifier(claims.get("consultant_id"))
    if (kind == "spoke") != (spoke_id is not None) or (kind == "consultant") != (
        consultant_id is not None
    ):
        raise InvalidToken("caller claims do not fit the caller kind")
    scopes = frozenset(scope.split()) & KIND_SCOPES[kind]
    return Caller(kind, subject, scopes, spoke_id, consultant_id), expires


def new_client_secret() -> str:
    """A 256-bit random client secret, shown once."""
    return secrets.token_urlsafe(32)


def hash_secret(secret: str) -> bytes:
    """The stored form of a high-entropy random secret (client secrets, feed tokens).

    SHA-256 suffices: these are 256-bit random values, not guessable passwords, so a slow
    hash would buy nothing and cost every token request.
    """
    return hashlib.sha256(secret.encode()).digest()


def secret_matches(secret: str, stored: bytes | None) -> bool:
    """Constant-time comparison of a presented secret with its stored hash."""
    return stored is not None and hmac.compare_digest(hash_secret(secret), stored)


def is_vschar(text: str) -> bool:
    """Printable ASCII (RFC 6749 appendix A VSCHAR), as client ids and secrets must be."""
    return all(" " <= c <= "~" for c in text)


def unverified_assertion_issuer(assertion: str) -> str:
    """The `iss` of a client assertion, read before we know which keys to check it with."""
    try:
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    issuer = claims.get("iss")
    if not isinstance(issuer, str) or not issuer:
        raise InvalidToken("client assertion has no iss")
    if not is_vschar(issuer):
        raise InvalidToken("client assertion iss must be a client id (printable ASCII)")
    return issuer


@dataclass(frozen=True, slots=True)
class Assertion:
    """A verified private_key_jwt client assertion."""

    jti: str
    expires_at: float


def verify_client_assertion(
    settings: Settings, assertion: str, client_id: str, jwks: dict[str, Any], *, now: float
) -> Assertion:
    """Check a SMART-style client assertion against the client's registered public keys.

    Its `aud` may name the token endpoint or the issuer (RFC 7523 section 3).
    """
    try:
        header = jwt.get_unverified_header(assertion)
    except jwt.PyJWTError as exc:
        raise InvalidToken(str(exc)) from None
    algorithm = header.get("alg")
    if algorithm not in ASSERTION_ALGORITHMS:
        raise InvalidToken(f"assertion algorithm must be one of {ASSERTION_ALGORITHMS}")
    keys = [k for k in jwks.get("keys", []) if isinstance(k, dict)]
    if header.get("kid") is not None:
        keys = [k for k in keys if k.get("kid") == header["kid"]]
    for jwk in keys:
        try:
            key = jwt.PyJWK(jwk, algorithm=algorithm)
            claims = jwt.decode(
                assertion,
                key.key,
                algorithms=[algorithm],
                audience=[settings.token_endpoint, settings.issuer],
                issuer=client_id,
                # Expiry is checked below against `now`, so callers and tests agree on time.
                options={"require": ["exp", "iss", "sub", "aud", "jti"], "verify_exp": False},
            )
        except (jwt.InvalidSignatureError, jwt.InvalidKeyError, ValueError, TypeError):
            continue  # not this key: try the next one
        except jwt.PyJWTError as exc:
            raise InvalidToken(str(exc)) from None  # signed by this key, but its claims are off
        expires = _numeric_date(claims, "exp")
        for name in ("iat", "nbf"):
            _numeric_date(claims, name)
        assert expires is not None  # required above
        if expires < now - CLOCK_SKEW:
            raise InvalidToken("assertion has expired")
        if claims["sub"] != client_id:
            raise InvalidToken("assertion sub must equal the client id")
        if expires > now + ASSERTION_MAX_LIFETIME + CLOCK_SKEW:
            raise InvalidToken("assertion must expire within five minutes")
        jti = claims["jti"]
        # Printable: it is stored, and PostgreSQL text cannot hold NUL.
        if not isinstance(jti, str) or not 1 <= len(jti) <= 255 or not jti.isprintable():
            raise InvalidToken("assertion jti must be a string of printable characters")
        return Assertion(jti=jti, expires_at=expires)
    raise InvalidToken("assertion is not signed by a registered key")


def parse_jwks(text: str) -> dict[str, Any]:
    """A JWK Set of public keys, refusing private keys and unusable key types."""
    data = json.loads(text)
    if not isinstance(data, dict) or not isinstance(data.get("keys"), list) or not data["keys"]:
        raise ValueError("a JWK Set needs a non-empty 'keys' list")
    for jwk in data["keys"]:
        if not isinstance(jwk, dict) or jwk.get("kty") not in {"RSA", "EC"}:
            raise ValueError("keys must be RSA or EC public keys")
        if "d" in jwk:
            raise ValueError("the JWK Set must hold public keys only")
    return data


_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    """An argon2id hash of a person's password."""
    return _hasher.hash(password)


def password_matches(password: str, stored: str) -> bool:
    """True when the password fits the stored argon2 hash."""
    try:
        return _hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False
