"""The sign-in pages and the problem-type pages: named URLs, one site name in the title."""

from __future__ import annotations

from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in


async def test_a_problem_type_page_names_the_site_once_in_its_title(client: TestClient) -> None:
    response = await client.get("/problems/not-an-open-slot")

    assert response.status == 200
    page = await response.text()
    assert "<title>Not an open slot · Telehub</title>" in page
    assert "<code>/problems/not-an-open-slot</code>" in page


async def test_signing_out_goes_back_to_the_sign_in_form(
    client: TestClient, network: Network
) -> None:
    email, password = await network.user("hub_coordinator")
    await sign_in(client, email, password)
    csrf = await page_csrf(client, "/coordinator")

    out = await client.post("/signout", data={"csrf_token": csrf}, allow_redirects=False)

    assert out.status == 303 and out.headers["Location"] == "/signin"
    signin = await (await client.get(out.headers["Location"])).text()
    assert 'action="/signin"' in signin and 'name="password"' in signin
