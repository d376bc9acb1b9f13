"""The second sign-in step: a code from an authenticator (or a recovery code), or enrolment.

Both pages open only with the half-signed-in cookie that a right password gave (a short-lived
row in `signin_pending`, not a session). Every code tried is counted per user before it is
checked (MFA_ACCOUNT), and a code's time step is used once. Wrong codes in a row are counted
too: at mfa.LOCK_AFTER the authenticator is locked, recovery codes included (someone who knows
the password is guessing: an administrator resets the authenticator, and should reset the
password too). A secret sealed under a secret key since rotated cannot be opened: the page says
the authenticator must be set up again, never a 500.
"""

from __future__ import annotations

import structlog
from aiohttp import web
from cryptography.exceptions import InvalidTag

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
    url_for,
    wait_words,
)

routes = web.RouteTableDef()
log = structlog.get_logger(__name__)

WRONG = (
    "That code is not right. Type the six digits your authenticator app shows now, "
    "or one of your recovery codes."
)
REPLAYED = "That code has already been used. Wait for the next code in your authenticator app."
LOCKED = (
    "Your authenticator is locked after too many wrong codes in a row, and recovery codes "
    "are refused too. An administrator must reset it (telehub reset-authenticator with your "
    "email); you then set up a new one after your password. Ask them to change your password "
    "as well: whoever typed those codes knew it."
)
UNREADABLE = (
    "Your authenticator must be set up again: ask an administrator to run "
    "telehub reset-authenticator with your email. Until then neither its codes nor your "
    "recovery codes can be checked."
)


def _blocked(user_id: int, found: sessions.Authenticator, secret_key: str) -> str | None:
    """Why this authenticator cannot sign anyone in now (locked, or its secret unreadable)."""
    if mfa.locked(found.failed_codes):
        return LOCKED
    try:
        mfa.unseal(secret_key, user_id, found.secret_sealed)
    except InvalidTag:
        # The secret key was rotated (or the row copied from another user): not a guess.
        log.warning("signin.authenticator_unreadable", user_id=user_id)
        return UNREADABLE
    return None


def _to_signin(request: web.Request) -> web.HTTPSeeOther:
    return web.HTTPSeeOther(url_for(request, "signin"))


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
    blocked: str | None = None,
) -> web.Response:
    return signin_step(
        request,
        "telehub/mfa_code.html",
        {"error": error, "email": pending.user.email, "blocked": blocked},
        status=status,
        retry_after=retry_after,
    )


@routes.get("/signin/code", name="signin_code")
async def code_page(request: web.Request) -> web.Response:
    """Ask for the code of a user who has an authenticator."""
    _, pending = await _pending(request)
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        found = await sessions.authenticator(conn, pending.user.id)
    if found is None:
        raise web.HTTPSeeOther(url_for(request, "signin_enrol"))
    blocked = _blocked(pending.user.id, found, settings.secret_key)
    if blocked is not None:
        return _code_form(request, pending, error=None, status=403, blocked=blocked)
    return _code_form(request, pending, error=None)


@routes.post("/signin/code", name="signin_code_post")
async def code(request: web.Request) -> web.Response:
    """Check a TOTP code (each time step once) or a recovery code (each once); sign in."""
    token_hash, pending = await _pending(request)
    user = pending.user
    typed = str((await request.post()).get("code", ""))
    settings = request.app[SETTINGS]
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        found = await sessions.authenticator(conn, user.id)
    if found is None:
        raise web.HTTPSeeOther(url_for(request, "signin_enrol"))
    blocked = _blocked(user.id, found, settings.secret_key)
    if blocked is not None:
        return _code_form(request, pending, error=None, status=403, blocked=blocked)
    wait = await _claim(request, user.id)
    if wait is not None:
        log.info("signin.code_throttled", user_id=user.id)
        return _code_form(request, pending, error=_too_many(wait), status=429, retry_after=wait)
    error = WRONG
    token = None
    async with transaction(request.app[POOL], settings.db_acquire_timeout) as conn:
        # Held to the end: parallel codes are checked, and counted, one after the other.
        found = await sessions.authenticator(conn, user.id, for_update=True)
        if found is None:
            raise web.HTTPSeeOther(url_for(request, "signin_enrol"))
        if mfa.locked(found.failed_codes):
            blocked = LOCKED
        flash = None
        if blocked is None and mfa.looks_like_code(typed):
            secret = mfa.unseal(settings.secret_key, user.id, found.secret_sealed)
            step = mfa.matching_step(secret, typed, now_of(request))
            ok = step is not None and await sessions.use_step(conn, user.id, step)
            if step is not None and not ok:
                error = REPLAYED
        elif blocked is None:
            code_hash = mfa.recovery_hash(settings.secret_key, typed)
            left = await sessions.use_recovery_code(conn, user.id, code_hash)
            ok = left is not None
            if left is not None:
                flash = f"You signed in with a recovery code: {left} of them left, each works once."
        else:
            ok = False
        if ok:
            if not await sessions.end_pending(conn, token_hash):
                raise _to_signin(request)  # another tab used it first
            await sessions.clear_wrong_codes(conn, user.id)
            await throttle.forget(conn, throttle.MFA_ACCOUNT, str(user.id))
            token = await new_session(conn, user.id, flash)
        elif blocked is None and error == WRONG:
            failed = await sessions.count_wrong_code(conn, user.id)
            if mfa.locked(failed):
                blocked = LOCKED
                if failed == mfa.LOCK_AFTER:
                    log.warning("signin.authenticator_locked", user_id=user.id)
    if blocked is not None:
        return _code_form(request, pending, error=None, status=403, blocked=blocked)
    if token is None:
        log.info("signin.code_refused", user_id=user.id, replayed=error == REPLAYED)
        return _code_form(request, pending, error=error, status=401)
    log.info("signin.ok", user_id=user.id, second_factor="recovery" if flash else "totp")
    raise signed_in_response(
        request, web.HTTPSeeOther(pending.next or url_for(request, user.home)), token
    )


async def _enrol_secret(request: web.Request, token_hash: bytes, pending: Pending) -> bytes:
    if pending.enrol_secret_sealed is not None:
        return pending.enrol_secret_sealed
    settings = request.app[SETTINGS]
    offered = mfa.seal(settings.secret_key, pending.user.id, mfa.new_secret())
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        return await sessions.keep_enrol_secret(conn, token_hash, offered)


async def _open_enrol_secret(
    request: web.Request, token_hash: bytes, pending: Pending, sealed: bytes
) -> str:
    """The secret being enrolled; one sealed before the secret key was rotated is dropped
    with the half-signed-in state, and the browser starts again from its password."""
    try:
        return mfa.unseal(request.app[SETTINGS].secret_key, pending.user.id, sealed)
    except InvalidTag:
        log.warning("signin.enrol_secret_unreadable", user_id=pending.user.id)
        settings = request.app[SETTINGS]
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            await sessions.end_pending(conn, token_hash)
        raise _to_signin(request) from None


def _enrol_form(
    request: web.Request,
    pending: Pending,
    secret: str,
    *,
    error: str | None,
    status: int = 200,
    retry_after: float | None = None,
) -> web.Response:
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
            raise web.HTTPSeeOther(url_for(request, "signin_code"))
    sealed = await _enrol_secret(request, token_hash, pending)
    secret = await _open_enrol_secret(request, token_hash, pending, sealed)
    return _enrol_form(request, pending, secret, error=None)


@routes.post("/signin/enrol", name="signin_enrol_post")
async def enrol(request: web.Request) -> web.Response:
    """A first right code turns the authenticator on; the recovery codes are shown once."""
    token_hash, pending = await _pending(request)
    sealed = pending.enrol_secret_sealed
    if sealed is None:
        raise web.HTTPSeeOther(url_for(request, "signin_enrol"))
    user = pending.user
    settings = request.app[SETTINGS]
    secret = await _open_enrol_secret(request, token_hash, pending, sealed)
    wait = await _claim(request, user.id)
    if wait is not None:
        return _enrol_form(
            request, pending, secret, error=_too_many(wait), status=429, retry_after=wait
        )
    typed = str((await request.post()).get("code", ""))
    step = mfa.matching_step(secret, typed, now_of(request))
    if step is None:
        log.info("signin.enrol_code_refused", user_id=user.id)
        wrong = "That code is not right. Type the six digits your authenticator app shows now."
        return _enrol_form(request, pending, secret, error=wrong, status=401)
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
        request,
        "telehub/mfa_recovery.html",
        {"codes": codes, "next": pending.next or url_for(request, user.home)},
    )
    signed_in_response(request, page, token)
    return page
