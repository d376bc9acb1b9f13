"""POST /oauth/token: OAuth2 client credentials (secret or SMART-style private_key_jwt).

Every refusal is an OAuthError carrying its RFC 6749 section 5.2 `error` code; the one problem
renderer writes it as the JSON that section asks for on /oauth/ paths. Repeated failures are
slowed per client id and per address by telehub/throttle.py, counted before any check.
"""

from __future__ import annotations

import base64
import time
from dataclasses import dataclass
from urllib.parse import unquote_plus

import asyncpg
import structlog
from aiohttp import web

from telehub import throttle
from telehub.auth import (
    ALL_SCOPES,
    ASSERTION_TYPE,
    CLOCK_SKEW,
    KIND_SCOPES,
    Caller,
    InvalidToken,
    is_vschar,
    issue_access_token,
    secret_matches,
    smart_scope_needs,
    unverified_assertion_issuer,
    verify_client_assertion,
)
from telehub.client_address import client_address
from telehub.clients import ApiClient, first_use_of_assertion, get_client
from telehub.db import connection
from telehub.errors import Problem, TooManyRequests
from telehub.keys import POOL, SETTINGS
from telehub.middleware import decoded_form, oauth_description
from telehub.settings import Settings

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


class OAuthError(Problem):
    """An RFC 6749 token error, also carrying its `error` code in the problem document."""

    slug = "oauth"
    title = "Token request refused"

    def __init__(self, error: str, detail: str, *, status: int = 400) -> None:
        detail = oauth_description(detail)
        super().__init__(detail, error=error, error_description=detail)
        self.status = status
        self.headers["Cache-Control"] = "no-store"


_FAILED = "client authentication failed: unknown client, inactive client or wrong secret"
GRANT_TYPE = "client_credentials"
# The only registered HTTP authentication scheme among the client authentication methods
# this endpoint takes. RFC 6749 section 5.2 requires it after a failed Basic attempt and
# allows it otherwise; strict clients expect a challenge on every 401, so every 401 has it.
CHALLENGE = 'Basic realm="telehub"'


def _invalid_client(detail: str) -> OAuthError:
    error = OAuthError("invalid_client", detail, status=401)
    error.headers["WWW-Authenticate"] = CHALLENGE
    return error


@dataclass(frozen=True, slots=True)
class _Presented:
    client_id: str
    secret: str | None = None
    assertion: str | None = None


async def _read_form(request: web.Request) -> dict[str, str]:
    """The form's parameters; empty ones count as omitted, repeated ones are refused."""
    if request.content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    form: dict[str, str] = {}
    # Undecodable bytes, charsets or framing: 400, which /oauth/ renders as invalid_request.
    for name, value in (await decoded_form(request)).items():
        if not isinstance(value, str):
            raise OAuthError("invalid_request", f"{name} must be a form field, not a file")
        if not value:
            continue  # RFC 6749 section 3.2: a parameter without a value is omitted
        if name in form:
            # RFC 6749 section 3.2: request parameters must not be included more than once.
            raise OAuthError("invalid_request", f"{name} is given more than once")
        form[name] = value
    return form


def _basic_credentials(header: str) -> _Presented:
    scheme, _, encoded = header.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except ValueError:  # binascii.Error, UnicodeDecodeError, and non-ASCII text given to b64decode
        decoded = ""
    client_id, sep, secret = decoded.partition(":")
    if scheme.lower() != "basic" or not sep:
        raise _invalid_client("malformed Basic credentials")
    # RFC 6749 section 2.3.1: both parts are form-urlencoded inside the header.
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    # Base64 hides them from the checks on headers: NUL and other controls end here.
    if not client_id or not is_vschar(client_id) or not is_vschar(secret):
        raise _invalid_client(
            "malformed Basic credentials: client id and secret are printable ASCII"
        )
    return _Presented(client_id, secret)


def _presented_credentials(request: web.Request, form: dict[str, str]) -> _Presented:
    header = request.headers.get("Authorization")
    methods = sum([header is not None, "client_secret" in form, "client_assertion" in form])
    if methods != 1:
        raise OAuthError(
            "invalid_request",
            "authenticate with exactly one of: HTTP Basic, client_secret, client_assertion",
        )
    for name in ("client_id", "client_secret"):
        if not is_vschar(form.get(name, "")):
            raise OAuthError("invalid_request", f"{name} must be printable ASCII")
    if header is not None:
        return _basic_credentials(header)
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        try:
            issuer = unverified_assertion_issuer(form["client_assertion"])
        except InvalidToken as exc:
            raise _invalid_client(f"client assertion refused: {exc}") from None
        if form.get("client_id", issuer) != issuer:
            raise _invalid_client("client_id does not match the assertion's iss")
        return _Presented(issuer, assertion=form["client_assertion"])
    if "client_id" not in form:
        raise OAuthError("invalid_request", "client_id is required with client_secret")
    return _Presented(form["client_id"], form["client_secret"])


def _grant_type(form: dict[str, str]) -> None:
    grant_type = form.get("grant_type")
    if grant_type is None:
        raise OAuthError("invalid_request", f"grant_type is required: {GRANT_TYPE}")
    if grant_type != GRANT_TYPE:
        raise OAuthError("unsupported_grant_type", f"grant_type must be {GRANT_TYPE}")


def _scopes(client: ApiClient, form: dict[str, str]) -> frozenset[str]:
    # A row may predate a narrowing of its kind: only what the kind can use is ever granted.
    allowed = client.scopes & KIND_SCOPES[client.kind]
    requested = frozenset(form.get("scope", "").split())
    if not requested:
        return allowed
    # A SMART system scope is granted when every telehub scope it maps to is the client's;
    # the token then carries both, so the FHIR face's telehub scope checks pass.
    implied: set[str] = set()
    refused = set()
    for scope in requested:
        needs = frozenset({scope}) if scope in ALL_SCOPES else smart_scope_needs(scope)
        if needs is None or not needs <= allowed:
            refused.add(scope)
        else:
            implied |= needs
    if refused:
        unknown = " ".join(sorted(refused))
        raise OAuthError("invalid_scope", f"scopes not granted to this client: {unknown}")
    return requested | implied


@routes.post("/oauth/token", name="oauth_token")
async def token(request: web.Request) -> web.Response:
    """Exchange client credentials for a short-lived bearer access token."""
    settings = request.app[SETTINGS]
    form = await _read_form(request)
    _grant_type(form)
    presented = _presented_credentials(request, form)
    checks = [
        (throttle.TOKEN_CLIENT, presented.client_id),
        (throttle.TOKEN_ADDRESS, client_address(request)),
    ]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        # Counted before the secret or assertion is checked, and outside any transaction,
        # so parallel guesses are all counted and a failure's count stands.
        wait = await throttle.claim(conn, checks)
        if wait is not None:
            raise _slow_down(wait)
        client = await get_client(conn, presented.client_id)
        if client is None or not client.active:
            # The same words as a wrong secret: a caller cannot tell which client ids exist.
            raise _invalid_client(_FAILED)
        await _authenticate(conn, settings, client, presented)
        by_client, by_address = checks
        await throttle.forget(conn, *by_client)
        # Only this attempt is taken back: one valid client must not wipe its address's other
        # failures, or a clinic's own credentials would reset the limit on guessing others'.
        await throttle.refund(conn, *by_address)
    granted = _scopes(client, form)
    caller = Caller(client.kind, client.client_id, granted, client.spoke_id, client.consultant_id)
    structlog.contextvars.bind_contextvars(actor=caller.actor)
    response = web.json_response(
        {
            "access_token": issue_access_token(settings, caller),
            "token_type": "Bearer",
            "expires_in": settings.access_token_ttl,
            "scope": " ".join(sorted(granted)),
        }
    )
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    return response


def _slow_down(wait: float) -> TooManyRequests:
    # RFC 6749 has no code for "too many attempts": its section 5.2 list (and the token
    # endpoint's registered extensions) leaves invalid_request; 429 and Retry-After say the rest.
    refusal = TooManyRequests(
        "too many failed attempts from this client or address; retry after the wait",
        retry_after=wait,
        error="invalid_request",
    )
    refusal.headers["Cache-Control"] = "no-store"
    return refusal


async def _authenticate(
    conn: asyncpg.Connection, settings: Settings, client: ApiClient, p: _Presented
) -> None:
    if p.assertion is None:
        if not secret_matches(p.secret or "", client.secret_hash):
            raise _invalid_client(_FAILED)
        return
    if client.jwks is None:
        raise _invalid_client("this client has no registered public keys")
    try:
        verified = verify_client_assertion(
            settings, p.assertion, client.client_id, client.jwks, now=time.time()
        )
    except InvalidToken as exc:
        raise _invalid_client(f"client assertion refused: {exc}") from None
    # Remember the jti for as long as verification would still accept the assertion.
    keep_until = verified.expires_at + CLOCK_SKEW
    if not await first_use_of_assertion(conn, client.client_id, verified.jti, keep_until):
        raise _invalid_client("client assertion replayed (jti already used)")
