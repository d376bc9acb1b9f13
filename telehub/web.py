"""Server-rendered pages: sign-in, sessions, CSRF, and the helpers page handlers use.

A page handler calls `signed_in(request, roles)` for its user, validates forms with the
API's own models (`read_form`), calls the same domain functions as the API with
`user.caller`, and answers with `render(...)` or a `see_other(...)` redirect.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import math
import re
import secrets
import unicodedata
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit, urlunsplit
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import asyncpg
import structlog
from aiohttp import web

from telehub import mfa, sessions, throttle
from telehub.auth import hash_password, hash_secret, password_matches
from telehub.client_address import client_address as _client_address
from telehub.db import connection, transaction
from telehub.errors import FieldError, Forbidden, ValidationFailed
from telehub.keys import POOL, SESSION, SESSION_HASH, SETTINGS
from telehub.middleware import RequestHandler, is_page, page_basics
from telehub.sessions import Session
from telehub.users import User
from telehub.validation import Input, validate

COOKIE = "telehub_session"
SIGNIN_COOKIE = "telehub_signin"  # double-submit CSRF token for the sign-in form itself
PENDING_COOKIE = "telehub_pending"  # a right password, waiting for its second factor
ROLES_HUB_STAFF = ("hub_admin", "hub_coordinator")
ROLES_SPOKE = ("spoke_scheduler", "spoke_clinician")
In = TypeVar("In", bound=Input)
Resp = TypeVar("Resp", bound=web.StreamResponse)
routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


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


@functools.cache
def _dummy_hash() -> str:
    """Checked when an email is unknown, so a wrong email takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


def signed_in(request: web.Request, *roles: str) -> User:
    """The signed-in user, if their role may see this page; else to sign-in, or 403."""
    session: Session | None = request.get(SESSION)
    if session is None:
        raise web.HTTPSeeOther(f"/signin?next={quote(request.path_qs, safe='')}")
    if roles and session.user.role not in roles:
        raise Forbidden("This page is not part of your role's work in Telehub.")
    return session.user


def local_time(value: datetime | None, zone: str, style: str = "%a %-d %b %Y, %H:%M") -> str:
    """A moment as people in `zone` read it (templates: `{{ when | local(zone) }}`)."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(zone)).strftime(style)


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


async def read_form(
    request: web.Request, model: type[In], **extra: Any
) -> tuple[In | None, dict[str, Any], dict[str, str]]:
    """A form validated with an API model: (parsed or None, what was typed, errors by field)."""
    form = await request.post()
    typed = {k: str(v) for k, v in form.items() if k != "csrf_token"}
    values: dict[str, Any] = {k: v for k, v in typed.items() if v != ""}
    values.update(extra)
    try:
        return validate(model, values), typed, {}
    except ValidationFailed as failed:
        return None, typed, errors_by_field(failed)


def errors_by_field(failed: ValidationFailed) -> dict[str, str]:
    """Field errors keyed by field name, for showing next to each input."""
    errors: dict[str, str] = {}
    for error in failed.errors or [FieldError("form", failed.detail)]:
        errors.setdefault(error.field, error.detail)
    return errors


@routes.get("/signin", name="signin")
async def signin_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    return _signin_form(request, email="", error=None, next_path=request.query.get("next", ""))


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
        secure=_secure(request),
        path="/signin",
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(max(1, math.ceil(retry_after)))
    return response


def _signin_form(
    request: web.Request,
    *,
    email: str,
    error: str | None,
    next_path: str,
    status: int = 200,
    retry_after: float | None = None,
) -> web.Response:
    return signin_step(
        request,
        "telehub/signin.html",
        {"email": email, "error": error, "next": next_path},
        status=status,
        retry_after=retry_after,
    )


def _secure(request: web.Request) -> bool:
    return request.app[SETTINGS].base_url.startswith("https://")


def wait_words(seconds: float) -> str:
    """How long to wait, as a person reads it."""
    whole = max(1, math.ceil(seconds))
    if whole < 120:
        return f"{whole} second{'s' if whole != 1 else ''}"
    return f"{math.ceil(whole / 60)} minutes"


def _has_control_characters(text: str) -> bool:
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
    if "\\" in decoded or _has_control_characters(decoded):
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
        COOKIE, token, httponly=True, samesite="Lax", secure=_secure(request), path="/"
    )
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
    response.del_cookie(PENDING_COOKIE, path="/signin")
    return response


@routes.post("/signin", name="signin_post")
async def signin(request: web.Request) -> web.Response:
    """Check the password; sign in, or ask for the second factor, or say what went wrong.

    The attempt is counted per account and per address before the password is checked, in
    its own statement outside any transaction, so parallel guesses are all counted.
    """
    form = await request.post()
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    next_path = str(form.get("next", ""))
    settings = request.app[SETTINGS]
    pool = request.app[POOL]
    address = client_address(request)
    async with connection(pool, settings.db_acquire_timeout) as conn:
        wait = await throttle.claim(
            conn, [(throttle.SIGNIN_ACCOUNT, email), (throttle.SIGNIN_ADDRESS, address)]
        )
        found = None
        if wait is None and not _has_control_characters(email):
            found = await sessions.user_with_password(conn, email)
    if wait is not None:
        log.info("signin.throttled", wait=round(wait, 1))
        return _signin_form(
            request,
            email=email,
            next_path=next_path,
            status=429,
            retry_after=wait,
            error=f"Too many failed attempts. Wait {wait_words(wait)}, then try again.",
        )
    # argon2 is slow on purpose: keep it off the event loop, and hold no connection meanwhile.
    ok = await asyncio.to_thread(password_matches, password, found[1] if found else _dummy_hash())
    if found is None or not ok:
        log.info("signin.failed")
        return _signin_form(
            request,
            email=email,
            next_path=next_path,
            status=401,
            error="That email and password do not match an account.",
        )
    user = found[0]
    target = safe_next(next_path, user.home)
    async with transaction(pool, settings.db_acquire_timeout) as conn:
        await throttle.forget(conn, throttle.SIGNIN_ACCOUNT, email)
        # A clinic's staff share an address: their good sign-ins never add up to a wait.
        await throttle.refund(conn, throttle.SIGNIN_ADDRESS, address)
        factor = await sessions.second_factor(conn, user)
        if factor.enrolled or mfa.required(user.role, factor.spoke_requires):
            pending = secrets.token_urlsafe(32)
            await sessions.start_pending(conn, hash_secret(pending), user.id, target)
            token = None
        else:
            token = await new_session(conn, user.id)
    if token is not None:
        log.info("signin.ok", user_id=user.id)
        raise signed_in_response(request, web.HTTPSeeOther(target), token)
    log.info("signin.password_ok", user_id=user.id, enrolled=factor.enrolled)
    step = "signin_code" if factor.enrolled else "signin_enrol"
    response = web.HTTPSeeOther(str(request.app.router[step].url_for()))
    response.set_cookie(
        PENDING_COOKIE,
        pending,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        path="/signin",
        max_age=int(sessions.PENDING.total_seconds()),
    )
    raise response


@routes.post("/signout", name="signout")
async def signout(request: web.Request) -> web.Response:
    """End the session."""
    token_hash = request.get(SESSION_HASH)
    if token_hash:
        settings = request.app[SETTINGS]
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            await sessions.end(conn, token_hash)
    response = web.HTTPSeeOther("/signin")
    response.del_cookie(COOKIE, path="/")
    raise response
