"""The one problem renderer: the request's own path as `instance`, and RFC 6749 error JSON
(not problem+json) on the token endpoint, which strict OAuth clients read."""

from __future__ import annotations

import re
from dataclasses import replace

from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Clock, Network

UNKNOWN = "00000000-0000-4000-8000-00000000abcd"


async def test_a_problem_names_the_request_path_not_the_route_template(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    response = await client.get(f"/api/v1/bookings/{UNKNOWN}", headers=spoke.headers)
    problem = await response.json()
    assert response.status == 404
    assert problem["instance"] == f"/api/v1/bookings/{UNKNOWN}"
    assert "{" not in problem["instance"]


async def test_a_problem_on_an_unknown_path_names_that_path(client: TestClient) -> None:
    problem = await (await client.get("/api/v1/no/such/thing")).json()
    assert problem["instance"] == "/api/v1/no/such/thing"


async def test_token_endpoint_refusals_are_oauth_error_json(client: TestClient) -> None:
    wrong_type = await client.post("/oauth/token", json={"grant_type": "client_credentials"})
    assert wrong_type.status == 400
    assert wrong_type.content_type == "application/json"
    assert wrong_type.headers["Cache-Control"] == "no-store"
    body = await wrong_type.json()
    assert body["error"] == "invalid_request"
    assert body["error_description"]
    assert "type" not in body and "instance" not in body

    unknown = await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": "nobody", "client_secret": "x"},
    )
    assert unknown.status == 401
    assert unknown.content_type == "application/json"
    assert (await unknown.json())["error"] == "invalid_client"


async def test_token_endpoint_http_refusals_are_oauth_error_json_too(client: TestClient) -> None:
    wrong_method = await client.get("/oauth/token")
    assert wrong_method.status == 405
    assert wrong_method.content_type == "application/json"
    assert wrong_method.headers["Cache-Control"] == "no-store"
    assert "POST" in wrong_method.headers["Allow"]
    assert (await wrong_method.json())["error"] == "invalid_request"


async def test_probes_and_discovery_paths_answer_problems_not_pages(
    aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> None:
    narrow = replace(settings, db_pool_min=1, db_pool_max=1, db_acquire_timeout=0.2)
    pool = await create_pool(narrow)
    try:
        client = await aiohttp_client(create_app(narrow, pool=pool, clock=clock))
        async with pool.acquire():  # the only connection is busy elsewhere
            ready = await client.get("/readyz")
        assert ready.status == 503
        assert ready.content_type == "application/problem+json"
        assert ready.headers["Retry-After"]
        unknown = await client.get("/.well-known/no-such-document")
        assert unknown.status == 404
        assert unknown.content_type == "application/problem+json"
    finally:
        await pool.close()


async def test_every_error_description_on_the_token_endpoint_keeps_to_rfc_6749_characters(
    client: TestClient,
) -> None:
    # A refusal from the shared checks, not from the token endpoint: its detail names the
    # field as sent, here `é"\` (RFC 6749 section 5.2 allows printable ASCII but " and \).
    response = await client.post(
        "/oauth/token",
        data=b"grant_type=client_credentials&%C3%A9%22%5C=%00",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert response.status == 400
    body = await response.json()
    assert body["error"] == "invalid_request"
    description = body["error_description"]
    assert re.fullmatch(r"[\x20-\x21\x23-\x5b\x5d-\x7e]+", description), description
    assert "control character" in description
