"""The second factor's guess budget ends (NIST SP 800-63B §5.2.2), and a secret key rotated
since enrolment gives a clear page, never a 500."""

from __future__ import annotations

import dataclasses

import asyncpg
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient
from structlog.testing import capture_logs

from telehub import mfa
from telehub.app import create_app
from telehub.sessions import enrol_authenticator
from telehub.settings import Settings
from tests.factories import SIGNIN_TOKEN, TOTP_SECRET, Clock, Network, enter_code, fresh_code


async def _password(client: TestClient, email: str, password: str) -> str:
    """The password step alone; where it sends the browser."""
    token = SIGNIN_TOKEN.findall(await (await client.get("/signin")).text())[0]
    response = await client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token},
        allow_redirects=False,
    )
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def _failed_codes(conn: asyncpg.Connection, email: str) -> int:
    failed: int = await conn.fetchval(
        "SELECT m.failed_codes FROM user_mfa m JOIN users u ON u.id = m.user_id WHERE u.email = $1",
        email,
    )
    return failed


async def test_wrong_codes_in_a_row_are_counted_and_a_right_one_clears_them(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    email, password = await network.user("hub_coordinator")
    await _password(client, email, password)
    for wrong in ("000000", "not-a-recovery-code"):
        assert (await enter_code(client, wrong)).status == 401
    assert await _failed_codes(conn, email) == 2
    assert (await enter_code(client, await fresh_code(client.app, email))).status == 303
    assert await _failed_codes(conn, email) == 0


async def test_the_twentieth_wrong_code_in_a_row_locks_the_authenticator_until_a_reset(
    client: TestClient, network: Network, conn: asyncpg.Connection, settings: Settings
) -> None:
    email, password = await network.user("hub_admin", authenticator=False)
    user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    _, recovery = await enrol_authenticator(conn, settings.secret_key, user_id, TOTP_SECRET)
    # The per-account throttle makes 19 real guesses take minutes: start from 19 counted.
    await conn.execute("UPDATE user_mfa SET failed_codes = $2 WHERE user_id = $1", user_id, 19)
    await _password(client, email, password)
    token = _token(await (await client.get("/signin/code")).text())
    with capture_logs() as logs:
        locked = await client.post("/signin/code", data={"code": "000000", "csrf_token": token})
    assert locked.status == 403
    text = await locked.text()
    assert "locked" in text and "telehub reset-authenticator" in text
    assert 'name="code"' not in text  # no form to guess in
    warnings = [e for e in logs if e["log_level"] == "warning"]
    assert warnings == [
        {"event": "signin.authenticator_locked", "user_id": user_id, "log_level": "warning"}
    ]

    # Neither a right code nor a recovery code opens it now.
    assert (await client.get("/signin/code")).status == 403
    right = await client.post(
        "/signin/code",
        data={"code": await fresh_code(client.app, email), "csrf_token": token},
        allow_redirects=False,
    )
    assert right.status == 403
    by_recovery = await client.post("/signin/code", data={"code": recovery[0], "csrf_token": token})
    assert by_recovery.status == 403
    assert await _failed_codes(conn, email) == mfa.LOCK_AFTER
    assert (await client.get("/coordinator", allow_redirects=False)).status == 303


def _token(page: str) -> str:
    found = SIGNIN_TOKEN.findall(page)
    if found:
        return str(found[0])
    raise AssertionError("no CSRF token on the page")


async def test_a_secret_sealed_under_a_rotated_key_asks_for_a_reset_not_a_500(
    pool: asyncpg.Pool,
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: Clock,
    network: Network,
) -> None:
    email, password = await network.user("hub_coordinator")  # enrolled under the old key
    rotated = dataclasses.replace(settings, secret_key="a-new-secret-key-" + "y" * 32)
    client = await aiohttp_client(create_app(rotated, pool=pool, clock=clock))
    assert await _password(client, email, password) == "/signin/code"

    with capture_logs() as logs:
        page = await client.get("/signin/code")
        # The sign-in steps' double-submit token (the blocked page has no form to carry it).
        jar = client.session.cookie_jar.filter_cookies(client.make_url("/signin/code"))
        token = jar["telehub_signin"].value
        typed = await client.post(
            "/signin/code", data={"code": "123456", "csrf_token": token}, allow_redirects=False
        )
    assert page.status == 403
    text = await page.text()
    assert "must be set up again" in text and "telehub reset-authenticator" in text
    assert typed.status == 403
    assert "must be set up again" in await typed.text()
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "signin.authenticator_unreadable"
    ] * 2


async def test_a_secret_offered_for_enrolment_before_a_key_rotation_starts_the_sign_in_again(
    pool: asyncpg.Pool,
    aiohttp_client: AiohttpClient,
    client: TestClient,
    settings: Settings,
    clock: Clock,
    network: Network,
) -> None:
    email, password = await network.user("hub_coordinator", authenticator=False)
    assert await _password(client, email, password) == "/signin/enrol"
    assert (await client.get("/signin/enrol")).status == 200  # a secret sealed, old key
    rotated = dataclasses.replace(settings, secret_key="a-new-secret-key-" + "y" * 32)
    after = await aiohttp_client(create_app(rotated, pool=pool, clock=clock))
    jar = client.session.cookie_jar.filter_cookies(client.make_url("/signin/enrol"))
    after.session.cookie_jar.update_cookies(jar, client.make_url("/signin/enrol"))

    page = await after.get("/signin/enrol", allow_redirects=False)
    assert page.status == 303 and page.headers["Location"] == "/signin"
    assert await _password(after, email, password) == "/signin/enrol"
    assert (await after.get("/signin/enrol")).status == 200  # a new secret, new key
