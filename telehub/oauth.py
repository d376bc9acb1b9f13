"""POST /oauth/token: OAuth2 client credentials (secret or SMART-style private_key_jwt)."""

from __future__ import annotations

import base64
import binascii
import time
from dataclasses import dataclass
from urllib.parse import unquote_plus

import asyncpg
import structlog
from aiohttp import web

from telehub.auth import (
    ASSERTION_TYPE,
    CLOCK_SKEW,
    Caller,
    InvalidToken,
    issue_access_token,
    secret_matches,
    unverified_assertion_issuer,
    verify_client_assertion,
)
from telehub.clients import ApiClient, first_use_of_assertion, get_client
from telehub.db import connection
from telehub.errors import Problem
from telehub.keys import POOL, SETTINGS
from telehub.settings import Settings

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


class OAuthError(Problem):
    """An RFC 6749 token error, also carrying its `error` code in the problem document."""

    slug = "oauth"
    title = "Token request refused"

    def __init__(self, error: str, detail: str, *, status: int = 400) -> None:
        super().__init__(detail, error=error, error_description=detail)
        self.status = status
        self.headers["Cache-Control"] = "no-store"


_FAILED = "client authentication failed: unknown client, inactive client or wrong secret"


def _invalid_client(detail: str, basic: bool) -> OAuthError:
    error = OAuthError("invalid_client", detail, status=401)
    if basic:
        error.headers["WWW-Authenticate"] = 'Basic realm="telehub"'
    return error


@dataclass(frozen=True, slots=True)
class _Presented:
    client_id: str
    secret: str | None = None
    assertion: str | None = None
    basic: bool = False


def _presented_credentials(request: web.Request, form: dict[str, str]) -> _Presented:
    header = request.headers.get("Authorization")
    methods = sum([header is not None, "client_secret" in form, "client_assertion" in form])
    if methods != 1:
        raise OAuthError(
            "invalid_request",
            "authenticate with exactly one of: HTTP Basic, client_secret, client_assertion",
        )
    if header is not None:
        scheme, _, encoded = header.partition(" ")
        try:
            decoded = base64.b64decode(encoded.strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        client_id, sep, secret = decoded.partition(":")
        if scheme.lower() != "basic" or not sep:
            raise _invalid_client("malformed Basic credentials", True)
        # RFC 6749 section 2.3.1: both parts are form-urlencoded inside the header.
        return _Presented(unquote_plus(client_id), unquote_plus(secret), basic=True)
    if "client_assertion" in form:
        if form.get("client_assertion_type") != ASSERTION_TYPE:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        try:
            issuer = unverified_assertion_issuer(form["client_assertion"])
        except InvalidToken as exc:
            raise _invalid_client(f"client assertion refused: {exc}", False) from None
        if form.get("client_id", issuer) != issuer:
            raise _invalid_client("client_id does not match the assertion's iss", False)
        return _Presented(issuer, assertion=form["client_assertion"])
    if not form.get("client_id"):
        raise OAuthError("invalid_request", "client_id is required with client_secret")
    return _Presented(form["client_id"], form["client_secret"])


@routes.post("/oauth/token", name="oauth_token")
async def token(request: web.Request) -> web.Response:
    """Exchange client credentials for a short-lived bearer access token."""
    settings = request.app[SETTINGS]
    if request.content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "the body must be application/x-www-form-urlencoded")
    form = {k: str(v) for k, v in (await request.post()).items()}
    if form.get("grant_type") != "client_credentials":
        raise OAuthError("unsupported_grant_type", "grant_type must be client_credentials")
    presented = _presented_credentials(request, form)
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        client = await get_client(conn, presented.client_id)
        if client is None or not client.active:
            # The same words as a wrong secret: a caller cannot tell which client ids exist.
            raise _invalid_client(_FAILED, presented.basic)
        await _authenticate(conn, settings, client, presented)
    requested = frozenset(form.get("scope", "").split())
    if requested - client.scopes:
        unknown = " ".join(sorted(requested - client.scopes))
        raise OAuthError("invalid_scope", f"scopes not granted to this client: {unknown}")
    granted = requested or client.scopes
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


async def _authenticate(
    conn: asyncpg.Connection, settings: Settings, client: ApiClient, p: _Presented
) -> None:
    if p.assertion is None:
        if not secret_matches(p.secret or "", client.secret_hash):
            raise _invalid_client(_FAILED, p.basic)
        return
    if client.jwks is None:
        raise _invalid_client("this client has no registered public keys", False)
    try:
        verified = verify_client_assertion(
            settings, p.assertion, client.client_id, client.jwks, now=time.time()
        )
    except InvalidToken as exc:
        raise _invalid_client(f"client assertion refused: {exc}", False) from None
    # Remember the jti for as long as verification would still accept the assertion.
    keep_until = verified.expires_at + CLOCK_SKEW
    if not await first_use_of_assertion(conn, client.client_id, verified.jti, keep_until):
        raise _invalid_client("client assertion replayed (jti already used)", False)
