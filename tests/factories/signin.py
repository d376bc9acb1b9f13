"""Signing in through the real forms: the CSRF token, the code step, fresh authenticator codes."""

from __future__ import annotations

import re

from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient

from telehub import mfa
from telehub.keys import CLOCK, POOL
from tests.factories.network import TOTP_SECRET

SIGNIN_TOKEN = re.compile(r'name="csrf_token" value="([^"]+)"')


async def sign_in(client: TestClient, email: str, password: str) -> ClientResponse:
    """Sign in through the real form (its CSRF cookie included), and the code page after it
    for a user with an authenticator; the client keeps the cookie."""
    form = await (await client.get("/signin")).text()
    match = SIGNIN_TOKEN.search(form)
    assert match, "the sign-in form has a CSRF token"
    response = await client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": match.group(1)},
        allow_redirects=False,
    )
    if response.status == 303 and response.headers["Location"] == "/signin/code":
        return await enter_code(client, await fresh_code(client.app, email))
    return response


async def enter_code(client: TestClient, code: str) -> ClientResponse:
    """Type a code (authenticator or recovery) on the sign-in code page."""
    page = await (await client.get("/signin/code")).text()
    match = SIGNIN_TOKEN.search(page)
    assert match, "the code page has a form with a CSRF token"
    return await client.post(
        "/signin/code",
        data={"code": code, "csrf_token": match.group(1)},
        allow_redirects=False,
    )


async def fresh_code(app: web.Application, email: str, secret: str = TOTP_SECRET) -> str:
    """The authenticator's code for the first time step near the app's clock not used yet
    (a test clock stands still, and each step signs in once)."""
    async with app[POOL].acquire() as conn:
        last = await conn.fetchval(
            "SELECT m.last_step FROM user_mfa m JOIN users u ON u.id = m.user_id"
            " WHERE u.email = $1",
            email,
        )
    current = mfa.step_of(app[CLOCK]())
    step = max(current - mfa.WINDOW, (last or 0) + 1)
    assert step <= current + mfa.WINDOW, f"{email} signed in more than 3 times in one time step"
    return mfa.code_at(secret, step)


async def page_csrf(client: TestClient, path: str) -> str:
    """The CSRF token a signed-in page carries in its forms."""
    match = SIGNIN_TOKEN.search(await (await client.get(path)).text())
    assert match, f"{path} has a form with a CSRF token"
    return match.group(1)
