"""Server-rendered pages' plumbing: sessions, CSRF, and the helpers page handlers use.

The sign-in pages are `telehub.signin_pages` (password) and `telehub.mfa_pages` (second factor).

A page handler calls `signed_in(request, roles)` for its user, reads its form with
`telehub.forms` (into the API's own models), calls the same domain functions as the API with
`user.caller`, and answers with `render(...)` or a `see_other(...)` redirect to a named route
(`url_for`; templates use aiohttp-jinja2's `url()`).
"""

from __future__ import annotations

import hmac
import math
import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import unquote, urlencode, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import asyncpg
import structlog
from aiohttp import web

from telehub import sessions
from telehub.auth import hash_secret
from telehub.client_address import client_address as _client_address
from telehub.db import connection
from telehub.errors import Forbidden
from telehub.keys import POOL, SESSION, SESSION_HASH, SETTINGS
from telehub.middleware import RequestHandler, is_page, page_basics
from telehub.sessions import Session
from telehub.users import User

COOKIE = "telehub_session"
SIGNIN_COOKIE = "telehub_signin"  # double-submit CSRF token for the sign-in form itself
PENDING_COOKIE = "telehub_pending"  # a right password, waiting for its second factor
ROLES_HUB_STAFF = ("hub_admin", "hub_coordinator")
ROLES_SPOKE = ("spoke_scheduler", "spoke_clinician", "care_manager")
Resp = TypeVar("Resp", bound=web.StreamResponse)


@web.middleware
async def web_sessions(request: web.Request, handler: RequestHandler) -> web.StreamResponse:
    """Load the signed-in user of page requests and refuse a form post without its CSRF token."""
    if not is_page(request):
        return await handler(request)
    token = request.cookies.get(COOKIE)
    if token:
        token_hash = hash_secret(token)
        settings = request.app[SETTINGS]
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            session = await sessions.touch(conn, token_hash, settings.session_idle_minutes)
        if session is not None:
            request[SESSION] = session
            request[SESSION_HASH] = token_hash
            structlog.contextvars.bind_contextvars(actor=f"user:{session.user.id}")
    if request.method not in ("GET", "HEAD"):
        await _check_csrf(request)
    return await handler(request)  # security headers: telehub.middleware.security_headers


async def _check_csrf(request: web.Request) -> None:
    form = await request.post()
    sent = str(form.get("csrf_token", ""))
    session = request.get(SESSION)
    expected = session.csrf_token if session else request.cookies.get(SIGNIN_COOKIE, "")
    if not sent or not expected or not _same_token(sent, expected):
        raise Forbidden(
            "This form has expired or did not come from Telehub. "
            "Go back, reload the page and try again."
        )


def _same_token(sent: str, expected: str) -> bool:
    # compare_digest raises TypeError on str holding non-ASCII: compare the UTF-8 bytes, with
    # surrogatepass so that even a lone surrogate (undecodable input) encodes instead of raising.
    return hmac.compare_digest(
        sent.encode("utf-8", "surrogatepass"), expected.encode("utf-8", "surrogatepass")
    )


def signed_in(request: web.Request, *roles: str) -> User:
    """The signed-in user, if their role may see this page; else to sign-in, or 403."""
    session: Session | None = request.get(SESSION)
    if session is None:
        raise web.HTTPSeeOther(url_for(request, "signin", {"next": request.path_qs}))
    if roles and session.user.role not in roles:
        raise Forbidden("This page is not part of your role's work in Telehub.")
    return session.user


def local_time(value: datetime | None, zone: str, style: str = "%a %-d %b %Y, %H:%M") -> str:
    """A moment as people in `zone` read it (templates: `{{ when | local(zone) }}`)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime(style)


def utc_text(value: datetime) -> str:
    """A moment as RFC 3339 in UTC with a `Z`: how pages carry a time in a link or a form."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def zone_name(zone: str) -> str:
    """A time zone as the pages show it, one way everywhere: "America/New York"."""
    return zone.replace("_", " ")


def render(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """A page from its template, with what every page may use (user, CSRF token, notice)."""
    return aiohttp_jinja2.render_template(
        template, request, {**page_basics(request), **context}, status=status
    )


async def see_other(
    request: web.Request, location: str, notice: str | None = None
) -> web.HTTPSeeOther:
    """A redirect after a successful form post, leaving a notice for the next page."""
    token_hash = request.get(SESSION_HASH)
    if notice and token_hash:
        settings = request.app[SETTINGS]
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            await sessions.set_flash(conn, token_hash, notice)
    return web.HTTPSeeOther(location)


def url_for(
    request: web.Request, name: str, query: Mapping[str, Any] | None = None, **parts: Any
) -> str:
    """A named route's path, with its parts and an optional query string (blank values left out).

    The one way page code names a page; templates use `url('name', part=..., query_={...})`.
    """
    path = str(request.app.router[name].url_for(**{k: str(v) for k, v in parts.items()}))
    given = {k: v for k, v in (query or {}).items() if v not in (None, "")}
    return f"{path}?{urlencode(given, safe=':')}" if given else path


def signin_step(
    request: web.Request,
    template: str,
    context: Mapping[str, Any],
    *,
    status: int = 200,
    retry_after: float | None = None,
) -> web.Response:
    """A page of the sign-in steps (password, code, enrolment) with a fresh form token."""
    token = secrets.token_urlsafe(24)
    response = render(request, template, {**context, "signin_csrf": token}, status=status)
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
        path="/signin",
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def secure_cookies(request: web.Request) -> bool:
    """Whether cookies are marked Secure: when the site is served over https."""
    return request.app[SETTINGS].base_url.startswith("https://")


def wait_words(seconds: float) -> str:
    """How long to wait, as a person reads it."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def has_control_characters(text: str) -> bool:
    """Whether text holds a control, format or unassigned character (never in a path or email)."""
    return any(unicodedata.category(c).startswith("C") for c in text)


def safe_next(target: str, fallback: str) -> str:
    r"""Where to go after signing in: a path (and query) on this site, rebuilt, or `fallback`.

    Browsers drop tabs and newlines from URLs and read backslashes as slashes, so
    `/%09/evil.example/` and `/\evil.example` are other sites to them: refuse control
    characters and backslashes (also percent-encoded), and anything with a scheme or host.
    """
    decoded = unquote(target)
    if not target.startswith("/") or decoded.startswith("//"):
        return fallback
    if "\\" in decoded or has_control_characters(decoded):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return fallback
    # One slash at a time: `//host` and `/%2F/host` never reach the Location header.
    path = re.sub(r"/{2,}", "/", parts.path)
    if unquote(path).startswith("//"):
        return fallback
    return urlunsplit(("", "", path, parts.query, ""))


def client_address(request: web.Request) -> str:
    """The address a request came from, as the sign-in throttle counts it."""
    return _client_address(request)


async def new_session(conn: asyncpg.Connection, user_id: int, flash: str | None = None) -> str:
    """Start a full session for a user; the token for their cookie."""
    token = secrets.token_urlsafe(32)
    await sessions.create(conn, hash_secret(token), user_id, secrets.token_urlsafe(32), flash)
    return token


def signed_in_response(request: web.Request, response: Resp, token: str) -> Resp:
    """Give the browser its session cookie and forget the sign-in steps' cookies."""
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Lax", secure=secure_cookies(request), path="/"
    )
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    response.del_cookie(PENDING_COOKIE, path="/signin")
    return response
