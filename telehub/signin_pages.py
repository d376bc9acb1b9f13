"""The sign-in form and signing out; the second factor's steps are `telehub.mfa_pages`."""

from __future__ import annotations

import asyncio
import functools
import secrets

import structlog
from aiohttp import web

from telehub import mfa, sessions, throttle
from telehub.auth import hash_password, hash_secret, password_matches
from telehub.db import connection, transaction
from telehub.keys import POOL, SESSION_HASH, SETTINGS
from telehub.web import (
    COOKIE,
    PENDING_COOKIE,
    client_address,
    has_control_characters,
    new_session,
    safe_next,
    secure_cookies,
    signed_in_response,
    signin_step,
    url_for,
    wait_words,
)

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)


@functools.cache
def _dummy_hash() -> str:
    """Checked when an email is unknown, so a wrong email takes as long as a wrong password."""
    return hash_password(secrets.token_urlsafe(16))


@routes.get("/signin", name="signin")
async def signin_page(request: web.Request) -> web.Response:
    """The sign-in form."""
    return _signin_form(request, email="", error=None, next_path=request.query.get("next", ""))


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
        if wait is None and not has_control_characters(email):
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
    target = safe_next(next_path, url_for(request, user.home))
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
    response = web.HTTPSeeOther(url_for(request, step))
    response.set_cookie(
        PENDING_COOKIE,
        pending,
        httponly=True,
        samesite="Strict",
        secure=secure_cookies(request),
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
    response = web.HTTPSeeOther(url_for(request, "signin"))
    response.del_cookie(COOKIE, path="/")
    raise response
