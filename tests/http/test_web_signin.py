"""Signing in to the pages: sessions, CSRF, a growing delay after failures, roles."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in


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


async def test_an_open_redirect_is_not_possible_after_sign_in(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    form = await (await client.get("/signin")).text()
    token = form.split('name="csrf_token" value="')[1].split('"')[0]
    response = await client.post(
        "/signin",
        data={
            "email": email,
            "password": password,
            "csrf_token": token,
            "next": "//evil.example/phish",
        },
        allow_redirects=False,
    )
    assert response.headers["Location"] == "/spoke"
