"""Saving a webhook URL that points inside the network is refused with 422 naming `url`.

The app here runs with private webhooks not allowed (as in production); nothing is ever sent
to these URLs, they are only saved (or not).
"""

from __future__ import annotations

import dataclasses
import re

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.settings import Settings
from tests.factories import Clock, Network, SpokeUser
from tests.http.coordinator_support import coordinator, post_form

GOOD = "https://hooks.riverside.example/telehub"
REFUSED = [
    "http://127.0.0.1:5432/",
    "http://[::1]:6379/",
    "http://localhost:22/",
    "https://2130706433:5432",
    "https://[::ffff:127.0.0.1]:5432",
    "https://127.1:5432",
    "http://127.0.0.1@127.0.0.1:5432/",
    "https://localhost/hook",
    "https://10.0.0.5/hook",
    "https://169.254.169.254/latest/meta-data",
    "https://[fd00::1]/hook",
    "https://hooks.riverside.example/telehub#x",
    "https://[]@",  # yarl's parser raises IndexError on it
    "https://[]\t5c@/hook",
]


@pytest.fixture
async def production(
    pool: asyncpg.Pool, aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> TestClient:
    """The app with private webhooks not allowed, as a real deployment runs."""
    strict = dataclasses.replace(settings, webhook_allow_private=False)
    return await aiohttp_client(create_app(strict, pool=pool, clock=clock))


async def _saved(conn: asyncpg.Connection, spoke: SpokeUser) -> tuple[object, ...]:
    row = await conn.fetchrow(
        "SELECT webhook_url, webhook_secret, webhook_full_payload FROM spokes WHERE id = $1",
        spoke.id,
    )
    return tuple(row)


async def test_a_webhook_url_inside_the_network_is_refused_naming_url_and_nothing_changes(
    production: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    path = f"/api/v1/spokes/{spoke.id}/webhook"
    first = await production.put(path, json={"url": GOOD}, headers=spoke.headers)
    assert first.status == 200, await first.text()
    before = await _saved(conn, spoke)

    for url in REFUSED:
        response = await production.put(
            path, json={"url": url, "full_payload": True}, headers=spoke.headers
        )
        problem = await response.json()
        assert response.status == 422, (url, problem)
        assert response.content_type == "application/problem+json"
        assert [e["field"] for e in problem["errors"]] == ["url"], (url, problem)
        assert await _saved(conn, spoke) == before, url


async def test_https_to_a_public_host_is_saved_where_private_webhooks_are_not_allowed(
    production: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    path = f"/api/v1/spokes/{spoke.id}/webhook"
    for url in (GOOD, "https://93.184.215.14:8443/in", "https://[2606:4700::1111]/in"):
        response = await production.put(path, json={"url": url}, headers=spoke.headers)
        assert response.status == 200, await response.text()
        assert (await _saved(conn, spoke))[0] == url


async def test_loopback_http_is_saved_only_where_private_webhooks_are_allowed(
    client: TestClient, production: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    path = f"/api/v1/spokes/{spoke.id}/webhook"
    loopback = "http://127.0.0.1:8123/hook"

    refused = await production.put(path, json={"url": loopback}, headers=spoke.headers)
    assert refused.status == 422
    assert (await _saved(conn, spoke))[0] is None
    allowed = await client.put(path, json={"url": loopback}, headers=spoke.headers)
    assert allowed.status == 200, await allowed.text()
    assert (await _saved(conn, spoke))[0] == loopback
    # A user name before '@' is refused whatever the setting: it hides where a URL goes.
    tricked = await client.put(
        path, json={"url": "http://127.0.0.1@127.0.0.1:5432/"}, headers=spoke.headers
    )
    assert tricked.status == 422
    assert [e["field"] for e in (await tricked.json())["errors"]] == ["url"]
    assert (await _saved(conn, spoke))[0] == loopback


async def test_the_coordinator_page_shows_the_refusal_by_the_field_and_keeps_the_old_url(
    production: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(production, network)
    path = f"/coordinator/spokes/{spoke.id}"
    assert (await post_form(production, path, {"url": GOOD})).status == 200  # secret shown
    before = await _saved(conn, spoke)

    response = await post_form(production, path, {"url": "https://2130706433:5432/"})
    assert response.status == 422
    html = await response.text()
    assert re.search(r'id="f-url-error">must point to a public address \(127.0.0.1', html), html
    assert 'value="https://2130706433:5432/"' in html
    assert await _saved(conn, spoke) == before


async def test_a_url_the_parser_breaks_on_is_refused_on_the_coordinator_page_too(
    production: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(production, network)
    path = f"/coordinator/spokes/{spoke.id}"
    assert (await post_form(production, path, {"url": GOOD})).status == 200
    before = await _saved(conn, spoke)

    response = await post_form(production, path, {"url": "https://[]@"})
    assert response.status == 422
    assert 'id="f-url-error">is not a URL<' in await response.text()
    assert await _saved(conn, spoke) == before
