"""Security headers are set in one place that every kind of response passes: pages, error
pages, redirects, the CSRF refusal, problem documents, aiohttp's own refusals, API answers."""

from __future__ import annotations

import dataclasses

import asyncpg
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.settings import Settings
from tests.factories import Clock, Network, sign_in


def _assert_secured(response: ClientResponse, *, no_store: bool = True) -> None:
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"], response.url
    assert headers["X-Frame-Options"] == "DENY", response.url
    assert headers["X-Content-Type-Options"] == "nosniff", response.url
    assert headers["Referrer-Policy"] == "same-origin", response.url
    if no_store:
        assert headers["Cache-Control"] == "no-store", response.url
    assert "Strict-Transport-Security" not in headers  # the test base URL is plain http


async def test_a_page_and_its_sign_in_redirect_carry_the_headers(client: TestClient) -> None:
    _assert_secured(await client.get("/signin"))
    redirect = await client.get("/spoke", allow_redirects=False)  # raised as HTTPSeeOther
    assert redirect.status == 303
    _assert_secured(redirect)


async def test_error_pages_carry_the_headers(client: TestClient, network: Network) -> None:
    missing = await client.get("/no/such/page")
    assert missing.status == 404 and missing.content_type == "text/html"
    _assert_secured(missing)

    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    assert (await sign_in(client, email, password)).status == 303
    forbidden = await client.get("/coordinator")
    assert forbidden.status == 403 and forbidden.content_type == "text/html"
    _assert_secured(forbidden)


async def test_the_csrf_refusal_carries_the_headers(client: TestClient) -> None:
    refused = await client.post("/signin", data={"email": "a@b.test", "password": "x"})
    assert refused.status == 403
    _assert_secured(refused)


async def test_an_internal_error_page_and_problem_carry_the_headers(
    pool: asyncpg.Pool, aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> None:
    async def broken(request: web.Request) -> web.Response:
        raise RuntimeError("a bug")

    app = create_app(settings, pool=pool, clock=clock)
    app.router.add_get("/broken", broken)
    app.router.add_get("/api/v1/broken", broken)
    client = await aiohttp_client(app)

    page = await client.get("/broken")
    assert page.status == 500 and page.content_type == "text/html"
    _assert_secured(page)
    problem = await client.get("/api/v1/broken")
    assert problem.status == 500 and problem.content_type == "application/problem+json"
    _assert_secured(problem)


async def test_api_answers_and_problems_are_not_stored(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    answer = await client.get("/api/v1/bookings", headers=spoke.headers)
    assert answer.status == 200
    _assert_secured(answer)
    unauthenticated = await client.get("/api/v1/bookings")
    assert unauthenticated.status == 401
    _assert_secured(unauthenticated)
    missing = await client.get("/api/v1/nothing-here")
    assert missing.status == 404 and missing.content_type == "application/problem+json"
    _assert_secured(missing)
    wrong_method = await client.delete("/api/v1/services", headers=spoke.headers)
    assert wrong_method.status == 405
    _assert_secured(wrong_method)


async def test_the_openapi_document_and_feeds_keep_their_own_caching(
    client: TestClient, network: Network, settings: Settings
) -> None:
    document = await client.get("/api/v1/openapi.json")
    _assert_secured(document, no_store=False)
    assert document.headers.get("Cache-Control") != "no-store"

    spoke = await network.spoke()
    rotated = await client.post(f"/api/v1/spokes/{spoke.id}/feed", headers=spoke.headers)
    assert rotated.status == 201
    feed = await client.get((await rotated.json())["url"].removeprefix(settings.base_url))
    assert feed.status == 200
    _assert_secured(feed, no_store=False)
    assert feed.headers["Cache-Control"].startswith("private")


async def test_an_https_base_url_adds_strict_transport_security(
    pool: asyncpg.Pool, aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> None:
    secure = dataclasses.replace(settings, base_url="https://telehub.example")
    client = await aiohttp_client(create_app(secure, pool=pool, clock=clock))
    for path in ("/signin", "/api/v1/openapi.json", "/no/such/page", "/api/v1/bookings"):
        response = await client.get(path, allow_redirects=False)
        assert response.headers["Strict-Transport-Security"].startswith("max-age="), path
