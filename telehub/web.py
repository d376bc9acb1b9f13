"""Server-rendered pages: sign-in, sessions, CSRF, and the helpers page handlers use.

A page handler calls `signed_in(request, roles)` for its user, validates forms with the
API's own models (`read_form`), calls the same domain functions as the API with
`user.caller`, and answers with `render(...)` or a `see_other(...)` redirect.
"""

from __future__ import annotations

import asyncio
import functools
import hmac
import secrets
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import aiohttp_jinja2
import structlog
from aiohttp import web

from telehub import sessions
from telehub.auth import hash_password, hash_secret, password_matches
from telehub.db import connection
from telehub.errors import FieldError, Forbidden, ValidationFailed
from telehub.keys import POOL, SESSION, SESSION_HASH, SETTINGS
from telehub.middleware import RequestHandler, is_page, page_basics
from telehub.sessions import Session
from telehub.users import User
from telehub.validation import Input, validate

COOKIE = "telehub_session"
SIGNIN_COOKIE = "telehub_signin"  # double-submit CSRF token for the sign-in form itself
ROLES_HUB_STAFF = ("hub_admin", "hub_coordinator")
ROLES_SPOKE = ("spoke_scheduler", "spoke_clinician")
In = TypeVar("In", bound=Input)
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
            session = await sessions.touch(conn, token_hash)
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
    if not sent or not expected or not hmac.compare_digest(sent, expected):
        raise Forbidden(
            "This form has expired or did not come from Telehub. "
            "Go back, reload the page and try again."
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
    return _signin_form(request, email="", error=None)


def _signin_form(
    request: web.Request, *, email: str, error: str | None, status: int = 200
) -> web.Response:
    token = secrets.token_urlsafe(24)
    response = render(
        request,
        "telehub/signin.html",
        {
            "email": email,
            "error": error,
            "signin_csrf": token,
            "next": request.query.get("next", ""),
        },
        status=status,
    )
    response.set_cookie(
        SIGNIN_COOKIE,
        token,
        httponly=True,
        samesite="Strict",
        secure=_secure(request),
        path="/signin",
    )
    return response


def _secure(request: web.Request) -> bool:
    return request.app[SETTINGS].base_url.startswith("https://")


def _safe_next(target: str, fallback: str) -> str:
    # Only a path on this site: never an absolute or protocol-relative URL.
    return target if target.startswith("/") and not target.startswith("//") else fallback


@routes.post("/signin", name="signin_post")
async def signin(request: web.Request) -> web.Response:
    """Check the password; sign in, or say what went wrong, slowing down repeated failures."""
    form = await request.post()
    email = str(form.get("email", "")).strip().lower()
    password = str(form.get("password", ""))
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        blocked = await sessions.blocked_until(conn, email)
        if blocked is not None:
            return _signin_form(
                request,
                email=email,
                status=429,
                error="Too many failed attempts. Wait a minute, then try again.",
            )
        found = await sessions.user_with_password(conn, email)
        # argon2 is slow on purpose: keep it off the event loop.
        ok = await asyncio.to_thread(
            password_matches, password, found[1] if found else _dummy_hash()
        )
        if found is None or not ok:
            await sessions.record_failure(conn, email)
            log.info("signin.failed")
            return _signin_form(
                request,
                email=email,
                status=401,
                error="That email and password do not match an account.",
            )
        user = found[0]
        await sessions.clear_failures(conn, email)
        token = secrets.token_urlsafe(32)
        await sessions.create(conn, hash_secret(token), user.id, secrets.token_urlsafe(32))
    log.info("signin.ok", user_id=user.id)
    response = web.HTTPSeeOther(_safe_next(str(form.get("next", "")), user.home))
    response.set_cookie(
        COOKIE, token, httponly=True, samesite="Lax", secure=_secure(request), path="/"
    )
    response.del_cookie(SIGNIN_COOKIE, path="/signin")
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
