"""The second sign-in step: a code from an authenticator (or a recovery code), or enrolment.

Both pages open only with the half-signed-in cookie that a right password gave (a short-lived
row in `signin_pending`, not a session). Every code tried is counted per user before it is
checked (MFA_ACCOUNT), and a code's time step is used once.
"""

from __future__ import annotations

import structlog
from aiohttp import web

from telehub import mfa, sessions, throttle
from telehub.auth import hash_secret
from telehub.db import connection, transaction
from telehub.keys import POOL, SETTINGS
from telehub.request import now_of
from telehub.sessions import Pending
from telehub.web import (
    PENDING_COOKIE,
    new_session,
    render,
    signed_in_response,
    signin_step,
    wait_words,
)

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)

WRONG = (
    "That code is not right. Type the six digits your authenticator app shows now, "
    "or one of your recovery codes."
)
REPLAYED = "That code has already been used. Wait for the next code in your authenticator app."


def _to_signin(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(str(request.app.router["signin"].url_for()))


async def _pending(request: web.Request) -> tuple[bytes, Pending]:
    """The half-signed-in state of this browser, or back to the password (it ran out)."""
    token = request.cookies.get(PENDING_COOKIE)
    if not token:
        raise _to_signin(request)
    token_hash = hash_secret(token)
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        found = await sessions.pending(conn, token_hash)
    if found is None:
        raise _to_signin(request)
    return token_hash, found


async def _claim(request: web.Request, user_id: int) -> float | None:
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        return await throttle.claim(conn, [(throttle.MFA_ACCOUNT, str(user_id))])


def _too_many(wait: float) -> str:
    return f"Too many wrong codes. Wait {wait_words(wait)}, then try again."


def _code_form(
    request: web.Request,
    pending: Pending,
    *,
    error: str | None,
    status: int = 200,
    retry_after: float | None = None,
) -> web.Response:
    return signin_step(
        request,
        "telehub/mfa_code.html",
        {"error": error, "email": pending.user.email},
        status=status,
        retry_after=retry_after,
    )


@routes.get("/signin/code", name="signin_code")
async def code_page(request: web.Request) -> web.Response:
    """Ask for the code of a user who has an authenticator."""
    _, pending = await _pending(request)
    return _code_form(request, pending, error=None)


@routes.post("/signin/code", name="signin_code_post")
async def code(request: web.Request) -> web.Response:
    """Check a TOTP code (each time step once) or a recovery code (each once); sign in."""
    token_hash, pending = await _pending(request)
    user = pending.user
    typed = str((await request.post()).get("code", ""))
    settings = request.app[SETTINGS]
    wait = await _claim(request, user.id)
    if wait is not None:
        log.info("signin.code_throttled", user_id=user.id)
        return _code_form(request, pending, error=_too_many(wait), status=429, retry_after=wait)
    error = WRONG
    token = None
    async with transaction(request.app[POOL], settings.db_acquire_timeout) as conn:
        sealed = await sessions.sealed_secret(conn, user.id)
        if sealed is None:
            raise web.HTTPSeeOther(str(request.app.router["signin_enrol"].url_for()))
        flash = None
        if mfa.looks_like_code(typed):
            secret = mfa.unseal(settings.secret_key, user.id, sealed)
            step = mfa.matching_step(secret, typed, now_of(request))
            ok = step is not None and await sessions.use_step(conn, user.id, step)
            if step is not None and not ok:
                error = REPLAYED
        else:
            code_hash = mfa.recovery_hash(settings.secret_key, typed)
            left = await sessions.use_recovery_code(conn, user.id, code_hash)
            ok = left is not None
            if left is not None:
                flash = f"You signed in with a recovery code: {left} of them left, each works once."
        if ok:
            if not await sessions.end_pending(conn, token_hash):
                raise _to_signin(request)  # another tab used it first
            await throttle.forget(conn, throttle.MFA_ACCOUNT, str(user.id))
            token = await new_session(conn, user.id, flash)
    if token is None:
        log.info("signin.code_refused", user_id=user.id, replayed=error == REPLAYED)
        return _code_form(request, pending, error=error, status=401)
    log.info("signin.ok", user_id=user.id, second_factor="recovery" if flash else "totp")
    raise signed_in_response(request, web.HTTPSeeOther(pending.next or user.home), token)


async def _enrol_secret(request: web.Request, token_hash: bytes, pending: Pending) -> bytes:
    if pending.enrol_secret_sealed is not None:
        return pending.enrol_secret_sealed
    settings = request.app[SETTINGS]
    offered = mfa.seal(settings.secret_key, pending.user.id, mfa.new_secret())
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        return await sessions.keep_enrol_secret(conn, token_hash, offered)


def _enrol_form(
    request: web.Request,
    pending: Pending,
    sealed: bytes,
    *,
    error: str | None,
    status: int = 200,
    retry_after: float | None = None,
) -> web.Response:
    secret = mfa.unseal(request.app[SETTINGS].secret_key, pending.user.id, sealed)
    uri = mfa.provisioning_uri(secret, pending.user.email)
    return signin_step(
        request,
        "telehub/mfa_enrol.html",
        {
            "error": error,
            "qr": mfa.qr_data_uri(uri),
            "secret": mfa.grouped(secret),
            "uri": uri,
            "email": pending.user.email,
        },
        status=status,
        retry_after=retry_after,
    )


@routes.get("/signin/enrol", name="signin_enrol")
async def enrol_page(request: web.Request) -> web.Response:
    """Show a new secret as a QR code and as text, and ask for its first code."""
    token_hash, pending = await _pending(request)
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        if await sessions.sealed_secret(conn, pending.user.id) is not None:
            raise web.HTTPSeeOther(str(request.app.router["signin_code"].url_for()))
    sealed = await _enrol_secret(request, token_hash, pending)
    return _enrol_form(request, pending, sealed, error=None)


@routes.post("/signin/enrol", name="signin_enrol_post")
async def enrol(request: web.Request) -> web.Response:
    """A first right code turns the authenticator on; the recovery codes are shown once."""
    token_hash, pending = await _pending(request)
    sealed = pending.enrol_secret_sealed
    if sealed is None:
        raise web.HTTPSeeOther(str(request.app.router["signin_enrol"].url_for()))
    user = pending.user
    settings = request.app[SETTINGS]
    wait = await _claim(request, user.id)
    if wait is not None:
        return _enrol_form(
            request, pending, sealed, error=_too_many(wait), status=429, retry_after=wait
        )
    typed = str((await request.post()).get("code", ""))
    secret = mfa.unseal(settings.secret_key, user.id, sealed)
    step = mfa.matching_step(secret, typed, now_of(request))
    if step is None:
        log.info("signin.enrol_code_refused", user_id=user.id)
        wrong = "That code is not right. Type the six digits your authenticator app shows now."
        return _enrol_form(request, pending, sealed, error=wrong, status=401)
    codes = mfa.new_recovery_codes()
    hashes = [mfa.recovery_hash(settings.secret_key, c) for c in codes]
    async with transaction(request.app[POOL], settings.db_acquire_timeout) as conn:
        if not await sessions.end_pending(conn, token_hash):
            raise _to_signin(request)
        if not await sessions.enrol(conn, user.id, sealed, step, hashes):
            raise _to_signin(request)  # enrolled meanwhile, elsewhere: sign in with it
        await throttle.forget(conn, throttle.MFA_ACCOUNT, str(user.id))
        token = await new_session(conn, user.id)
    log.info("signin.enrolled", user_id=user.id)
    page = render(
        request, "telehub/mfa_recovery.html", {"codes": codes, "next": pending.next or user.home}
    )
    signed_in_response(request, page, token)
    return page
