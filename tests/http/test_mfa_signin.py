"""A second factor (TOTP): enrolment, sign-in with a code, wrong and replayed codes refused,
recovery codes; hub staff and consultants always, a clinic's staff when the hub says so."""

from __future__ import annotations

import asyncio
import base64
import re
from datetime import timedelta

import aiohttp
import asyncpg
from aiohttp.test_utils import TestClient

from telehub import mfa
from tests.factories import (
    SIGNIN_TOKEN,
    TOTP_SECRET,
    Clock,
    Network,
    enter_code,
    fresh_code,
    page_csrf,
    sign_in,
)

SECRET_TEXT = re.compile(r'<code class="secret" id="totp-secret">([A-Z2-7 ]+)</code>')
RECOVERY = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


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


async def _enrol(client: TestClient, clock: Clock, code_offset: int = 0) -> tuple[str, str]:
    """On the enrolment page: read the secret, confirm it with a code; (secret, page after)."""
    page = await client.get("/signin/enrol")
    assert page.status == 200
    text = await page.text()
    secret = SECRET_TEXT.search(text)
    assert secret, "the secret is shown as text for typing by hand"
    plain = secret.group(1).replace(" ", "")
    code = mfa.code_at(plain, mfa.step_of(clock.now) + code_offset)
    token = SIGNIN_TOKEN.findall(text)[0]
    confirmed = await client.post(
        "/signin/enrol", data={"code": code, "csrf_token": token}, allow_redirects=False
    )
    return plain, await confirmed.text() if confirmed.status == 200 else str(confirmed.status)


async def test_a_coordinator_without_an_authenticator_enrols_and_sees_recovery_codes_once(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    email, password = await network.user("hub_coordinator", authenticator=False)
    assert await _password(client, email, password) == "/signin/enrol"

    page = await client.get("/signin/enrol")
    text = await page.text()
    qr = re.search(r'<img class="qr" src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"', text)
    assert qr, "a QR code as an inline SVG image (allowed by the page CSP's img-src data:)"
    assert base64.b64decode(qr.group(1)).startswith(b"<svg")
    assert "img-src 'self' data:" in page.headers["Content-Security-Policy"]
    # Half signed in is not signed in.
    assert (await client.get("/coordinator", allow_redirects=False)).status == 303

    secret, shown = await _enrol(client, clock)
    assert "Two-step sign-in is on" in shown
    codes = RECOVERY.findall(shown)
    assert len(codes) == 10 and len(set(codes)) == 10
    assert (await client.get("/coordinator")).status == 200  # signed in now

    # Stored sealed and hashed, never as shown.
    sealed = await conn.fetchval("SELECT secret_sealed FROM user_mfa")
    assert secret.encode() not in bytes(sealed)
    hashes = [bytes(r["code_hash"]) for r in await conn.fetch("SELECT * FROM mfa_recovery_codes")]
    assert len(hashes) == 10
    assert all(code.encode() not in h for code in codes for h in hashes)
    # The codes are never shown again: the enrolment page is gone with the half-signed-in state.
    again = await client.get("/signin/enrol", allow_redirects=False)
    assert again.status == 303 and again.headers["Location"] == "/signin"


async def test_a_wrong_code_at_enrolment_keeps_the_same_secret_and_enrols_nothing(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    email, password = await network.user("hub_admin", authenticator=False)
    await _password(client, email, password)
    first = SECRET_TEXT.search(await (await client.get("/signin/enrol")).text())
    text = await (await client.get("/signin/enrol")).text()
    assert first and SECRET_TEXT.search(text).group(1) == first.group(1)  # type: ignore[union-attr]
    token = SIGNIN_TOKEN.findall(text)[0]
    refused = await client.post("/signin/enrol", data={"code": "000000", "csrf_token": token})
    assert refused.status == 401
    assert "That code is not right" in await refused.text()
    assert await conn.fetchval("SELECT count(*) FROM user_mfa") == 0


async def test_sign_in_with_a_code_from_the_authenticator(
    client: TestClient, network: Network
) -> None:
    consultant = await network.consultant([await network.service()])
    email, password = await network.user("consultant", consultant_id=consultant.id)
    assert await _password(client, email, password) == "/signin/code"
    assert (await client.get("/hub", allow_redirects=False)).status == 303  # not yet

    done = await enter_code(client, await fresh_code(client.app, email))
    assert done.status == 303 and done.headers["Location"] == "/hub"
    assert "telehub_session" in done.cookies
    assert (await client.get("/hub", allow_redirects=False)).status == 200


async def test_a_wrong_code_is_refused(client: TestClient, network: Network, clock: Clock) -> None:
    email, password = await network.user("hub_coordinator")
    await _password(client, email, password)
    far = mfa.code_at(TOTP_SECRET, mfa.step_of(clock.now) + 5)  # two and a half minutes off
    for wrong in ("123456" if far != "123456" else "654321", far):
        refused = await enter_code(client, wrong)
        assert refused.status == 401
        assert "That code is not right" in await refused.text()
    assert (await client.get("/coordinator", allow_redirects=False)).status == 303


async def test_a_replayed_code_is_refused(client: TestClient, network: Network) -> None:
    email, password = await network.user("hub_coordinator")
    await _password(client, email, password)
    code = await fresh_code(client.app, email)
    assert (await enter_code(client, code)).status == 303
    client.session.cookie_jar.clear()  # another browser: someone who saw the code

    await _password(client, email, password)
    replayed = await enter_code(client, code)
    assert replayed.status == 401
    assert "already been used" in await replayed.text()
    assert (await client.get("/coordinator", allow_redirects=False)).status == 303


async def test_a_code_from_an_earlier_step_than_one_used_is_refused_too(
    client: TestClient, network: Network, clock: Clock
) -> None:
    email, password = await network.user("hub_coordinator")
    now = mfa.step_of(clock.now)
    await _password(client, email, password)
    assert (await enter_code(client, mfa.code_at(TOTP_SECRET, now))).status == 303
    client.session.cookie_jar.clear()
    await _password(client, email, password)
    earlier = await enter_code(client, mfa.code_at(TOTP_SECRET, now - 1))  # inside the window
    assert earlier.status == 401
    clock.now += timedelta(seconds=mfa.STEP_SECONDS)  # the next code, in the next step
    assert (await enter_code(client, mfa.code_at(TOTP_SECRET, now + 1))).status == 303


async def test_wrong_codes_are_throttled_per_account(
    client: TestClient, network: Network, clock: Clock
) -> None:
    email, password = await network.user("hub_coordinator")
    await _password(client, email, password)
    statuses = []
    for n in range(7):
        statuses.append((await enter_code(client, f"{n:06d}")).status)
    assert statuses[:5] == [401] * 5
    assert statuses[5:] == [429, 429]
    refused = await enter_code(client, await fresh_code(client.app, email))  # even a right one
    assert refused.status == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert "Too many wrong codes" in await refused.text()


async def test_a_recovery_code_signs_in_once(
    client: TestClient, network: Network, clock: Clock
) -> None:
    email, password = await network.user("hub_admin", authenticator=False)
    await _password(client, email, password)
    _, shown = await _enrol(client, clock)
    codes = RECOVERY.findall(shown)
    await client.post("/signout", data={"csrf_token": await page_csrf(client, "/coordinator")})

    assert await _password(client, email, password) == "/signin/code"
    used = await enter_code(client, codes[3].upper().replace("-", " "))  # as typed off paper
    assert used.status == 303 and used.headers["Location"] == "/coordinator"
    landing = await client.get("/coordinator")
    assert "recovery code: 9 of them left" in await landing.text()
    client.session.cookie_jar.clear()

    await _password(client, email, password)
    again = await enter_code(client, codes[3])
    assert again.status == 401
    assert (await enter_code(client, codes[4])).status == 303


async def test_the_code_page_needs_a_right_password_first(
    client: TestClient, network: Network
) -> None:
    for path in ("/signin/code", "/signin/enrol"):
        response = await client.get(path, allow_redirects=False)
        assert response.status == 303 and response.headers["Location"] == "/signin"


async def test_the_half_signed_in_state_runs_out(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    email, password = await network.user("hub_coordinator")
    await _password(client, email, password)
    await conn.execute("UPDATE signin_pending SET expires_at = now() - interval '1 second'")
    late = await enter_code(client, await fresh_code(client.app, email))
    assert late.status == 303 and late.headers["Location"] == "/signin"
    assert (await client.get("/coordinator", allow_redirects=False)).status == 303


async def test_next_survives_the_code_step(client: TestClient, network: Network) -> None:
    email, password = await network.user("hub_coordinator")
    token = SIGNIN_TOKEN.findall(await (await client.get("/signin")).text())[0]
    await client.post(
        "/signin",
        data={
            "email": email,
            "password": password,
            "csrf_token": token,
            "next": "/coordinator/spokes",
        },
        allow_redirects=False,
    )
    done = await enter_code(client, await fresh_code(client.app, email))
    assert done.headers["Location"] == "/coordinator/spokes"


async def test_a_clinic_asked_for_a_second_factor_by_the_hub_enrols_its_staff(
    client: TestClient, network: Network, clock: Clock
) -> None:
    spoke = await network.spoke()
    scheduler, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    coordinator, coordinator_password = await network.user("hub_coordinator")

    assert (await sign_in(client, scheduler, password)).headers["Location"] == "/spoke"
    client.session.cookie_jar.clear()

    assert (await sign_in(client, coordinator, coordinator_password)).status == 303
    page = await client.get(f"/coordinator/spokes/{spoke.id}")
    assert 'name="mfa_required"' in await page.text()
    switched = await client.post(
        f"/coordinator/spokes/{spoke.id}/mfa",
        data={"mfa_required": "on", "csrf_token": await page_csrf(client, "/coordinator")},
        allow_redirects=False,
    )
    assert switched.status == 303
    assert "checked" in (await (await client.get(f"/coordinator/spokes/{spoke.id}")).text())
    client.session.cookie_jar.clear()

    assert await _password(client, scheduler, password) == "/signin/enrol"
    _, shown = await _enrol(client, clock)
    assert len(RECOVERY.findall(shown)) == 10
    assert (await client.get("/spoke", allow_redirects=False)).status == 200


async def test_one_code_sent_from_five_browsers_at_once_signs_in_one(
    client: TestClient, network: Network
) -> None:
    email, password = await network.user("hub_coordinator")
    code = await fresh_code(client.app, email)

    async def browser() -> aiohttp.ClientSession:
        """A browser of its own (cookies and all), at the password step's end."""
        session = aiohttp.ClientSession(
            base_url=str(client.make_url("/")), cookie_jar=aiohttp.CookieJar(unsafe=True)
        )
        token = SIGNIN_TOKEN.findall(await (await session.get("/signin")).text())[0]
        await session.post(
            "/signin",
            data={"email": email, "password": password, "csrf_token": token},
            allow_redirects=False,
        )
        return session

    async def send(session: aiohttp.ClientSession) -> int:
        token = SIGNIN_TOKEN.findall(await (await session.get("/signin/code")).text())[0]
        response = await session.post(
            "/signin/code", data={"code": code, "csrf_token": token}, allow_redirects=False
        )
        return response.status

    sessions = [await browser() for _ in range(5)]
    try:
        statuses = await asyncio.gather(*(send(s) for s in sessions))
    finally:
        for session in sessions:
            await session.close()
    assert sorted(statuses) == [303, 401, 401, 401, 401]  # the time step is used once
