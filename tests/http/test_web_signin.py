"""Signing in to the pages: sessions, CSRF, a growing delay after failures, roles."""

from __future__ import annotations

import asyncio
from urllib.parse import urlencode

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import SIGNIN_TOKEN, Network, page_csrf, sign_in


async def test_signing_in_sets_a_safe_session_cookie_and_lands_on_the_role_home(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)

    response = await sign_in(client, email, password)

    assert response.status == 303
    assert response.headers["Location"] == "/spoke"
    cookie = response.cookies["telehub_session"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
    page = await client.get("/spoke")
    assert page.status == 200
    assert "Clinic" in await page.text()
    assert page.headers["Cache-Control"] == "no-store"
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]


async def test_a_page_asks_for_sign_in_and_comes_back_after(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_clinician", spoke_id=spoke.id)
    first = await client.get("/spoke", allow_redirects=False)
    assert first.status == 303
    assert first.headers["Location"] in ("/signin?next=%2Fspoke", "/signin?next=/spoke")
    form = await (await client.get("/signin?next=%2Fspoke%3Fx%3D1")).text()
    assert 'name="next" value="/spoke?x=1"' in form
    assert (await sign_in(client, email, password)).status == 303


async def test_a_wrong_password_says_so_and_repeated_failures_slow_down(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    statuses = [(await sign_in(client, email, "wrong")).status for _ in range(3)]
    assert statuses == [401, 401, 401]
    blocked = await sign_in(client, email, password)  # right password, but must wait now
    assert blocked.status == 429
    assert "Too many failed attempts" in await blocked.text()
    unknown = await sign_in(client, "nobody@telehub.test", "whatever")
    assert unknown.status == 401
    assert "do not match an account" in await unknown.text()


async def test_a_form_post_without_its_csrf_token_is_refused(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(client, email, password)

    forged = await client.post("/signout", data={}, allow_redirects=False)
    wrong = await client.post("/signout", data={"csrf_token": "guess"}, allow_redirects=False)
    assert (forged.status, wrong.status) == (403, 403)
    assert "did not come from Telehub" in await forged.text()
    assert (await client.get("/spoke", allow_redirects=False)).status == 200  # still signed in

    token = await page_csrf(client, "/spoke")
    out = await client.post("/signout", data={"csrf_token": token}, allow_redirects=False)
    assert out.status == 303
    assert (await client.get("/spoke", allow_redirects=False)).status == 303


async def test_the_signin_form_itself_needs_its_token(client: TestClient, network: Network) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    forged = await client.post(
        "/signin", data={"email": email, "password": password}, allow_redirects=False
    )
    assert forged.status == 403


async def test_a_role_cannot_open_another_roles_pages(client: TestClient, network: Network) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(client, email, password)
    for path in ("/coordinator", "/hub", "/hub/worklist", "/coordinator/clients"):
        refused = await client.get(path)
        assert refused.status == 403, path
        assert "not part of your role" in await refused.text()


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/phish",
        "/\t/evil.example/",
        "/\n/evil.example/",
        "/\r/evil.example/",
        "/\\evil.example/",
        "https://evil.example/",
        "/%09/evil.example/",
        "/%5C%5Cevil.example",
    ],
)
async def test_an_open_redirect_is_not_possible_after_sign_in(
    client: TestClient, network: Network, target: str
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    form = await (await client.get("/signin")).text()
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    # As a browser sends `next=/%09/evil.example/`: urlencoded, so the server reads a tab.
    body = urlencode({"email": email, "password": password, "csrf_token": token, "next": target})
    response = await client.post(
        "/signin",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
        allow_redirects=False,
    )
    assert response.status == 303
    assert response.headers["Location"] == "/spoke"


async def test_a_path_on_this_site_is_where_sign_in_goes_after(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    token = SIGNIN_TOKEN.findall(await (await client.get("/signin")).text())[0]
    response = await client.post(
        "/signin",
        data={"email": email, "password": password, "csrf_token": token, "next": "/spoke/find?x=1"},
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/spoke/find?x=1"


async def _signin_form_token(client: TestClient) -> str:
    match = SIGNIN_TOKEN.search(await (await client.get("/signin")).text())
    assert match
    return match.group(1)


async def test_twenty_parallel_guesses_for_one_account_check_at_most_three_passwords(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, _ = await network.user("spoke_scheduler", spoke_id=spoke.id)
    token = await _signin_form_token(client)

    async def guess(n: int) -> int:
        response = await client.post(
            "/signin",
            data={"email": email, "password": f"guess {n}", "csrf_token": token},
            allow_redirects=False,
        )
        return response.status

    # Sent at once: each is counted (one atomic statement) before its password is checked.
    statuses = await asyncio.gather(*(guess(n) for n in range(20)))
    assert statuses.count(401) == 3, statuses  # checked against the password, and wrong
    assert statuses.count(429) == 17, statuses  # refused before any password check


async def test_one_password_tried_across_many_accounts_is_slowed_by_address(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    emails = [(await network.user("spoke_scheduler", spoke_id=spoke.id))[0] for _ in range(15)]
    token = await _signin_form_token(client)

    async def spray(email: str) -> int:
        response = await client.post(
            "/signin",
            data={"email": email, "password": "Summer2027!", "csrf_token": token},
            allow_redirects=False,
        )
        return response.status

    # One guess per account never trips an account's limit; the address limit (10) does.
    statuses = await asyncio.gather(*(spray(e) for e in emails))
    assert statuses.count(401) == 10, statuses
    assert statuses.count(429) == 5, statuses


async def test_the_wait_grows_and_the_right_password_after_it_works(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    waits = []
    for _ in range(3):
        for _ in range(4):  # wrong, until refused
            response = await sign_in(client, email, "wrong")
            if response.status == 429:
                break
        assert response.status == 429
        assert "Too many failed attempts. Wait" in await response.text()
        waits.append(int(response.headers["Retry-After"]))
        # The wait runs out (PostgreSQL's clock decides; no test sleeps through it).
        await conn.execute("UPDATE throttle SET blocked_until = now() - interval '1 ms'")
    assert waits == sorted(waits) and waits[0] < waits[-1], waits  # 1 s, 2 s, 4 s

    assert (await sign_in(client, email, password)).status == 303
    # ...and the account starts again from nothing.
    assert (
        await conn.fetchval("SELECT count(*) FROM throttle WHERE limit_name = 'signin-account'")
        == 0
    )


async def test_a_refused_sign_in_page_says_how_long_to_wait(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    for _ in range(3):
        await sign_in(client, email, "wrong")
    refused = await sign_in(client, email, password)
    assert refused.status == 429
    assert refused.headers["Retry-After"] == "1"
    assert refused.content_type == "text/html"
    assert "Wait 1 second, then try again." in await refused.text()


async def test_a_session_ends_after_the_idle_minutes_setting(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    idle = network.settings.session_idle_minutes  # 30 by default
    await conn.execute(
        "UPDATE web_sessions SET last_seen_at = now() - make_interval(mins => $1 - 1)", idle
    )
    assert (await client.get("/spoke", allow_redirects=False)).status == 200
    await conn.execute(
        "UPDATE web_sessions SET last_seen_at = now() - make_interval(mins => $1 + 1)", idle
    )
    assert (await client.get("/spoke", allow_redirects=False)).status == 303  # to sign in
