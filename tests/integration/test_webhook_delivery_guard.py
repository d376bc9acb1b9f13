"""At delivery the address connected to is checked: a name that resolves inside, or an inside
address saved before the rule, is refused before any connection; redirects are not followed.

The DNS here is a fake (tests.webhook_fakes.FakeResolver) and every socket the connector makes
is recorded, so a refusal is shown to happen with no socket made at all. Only loopback
receivers in this process are ever connected to, and only where private webhooks are allowed.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import aiohttp
import asyncpg
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from consults import delivery_store
from consults.delivery import deliver_due, new_webhook_secret
from consults.webhook_address import RefusedAddress, webhook_connector
from spokes import store as spokes_store
from telehub.settings import Settings
from tests.factories import Network
from tests.webhook_fakes import FakeResolver, SocketRecorder

INSIDE = "10.0.0.5"  # never connected to: the refusal comes first


async def _one_event_for(pool: asyncpg.Pool, network: Network, url: str) -> int:
    """A spoke whose webhook is `url` (written straight to the table, as if saved before
    the rule or under another setting) and one event waiting for it; the spoke's id."""
    spoke = await network.spoke()
    async with pool.acquire() as conn:
        await spokes_store.set_webhook(
            conn, spoke.id, url=url, secret=new_webhook_secret(), full_payload=False
        )
        await delivery_store.enqueue(
            conn, spoke_id=spoke.id, event_type="note.signed", payload={"type": "note.signed"}
        )
    return spoke.id


async def _outbox(pool: asyncpg.Pool) -> dict[str, Any]:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT attempts, delivered_at, last_status, last_error FROM outbox"
        )
    return dict(row)


@pytest.fixture
def strict(settings: Settings) -> Settings:
    """Settings as a deployment runs: webhooks only to public addresses."""
    return dataclasses.replace(settings, webhook_allow_private=False)


async def test_a_name_that_resolves_inside_is_refused_at_delivery_before_any_connection(
    pool: asyncpg.Pool, network: Network, strict: Settings
) -> None:
    await _one_event_for(pool, network, "https://hooks.clinic.test/telehub")
    dns = FakeResolver({"hooks.clinic.test": [INSIDE]})  # the name was public when saved
    sockets = SocketRecorder()
    connector = webhook_connector(allow_private=False, resolver=dns, make_socket=sockets)

    async with aiohttp.ClientSession(connector=connector) as session:
        assert await deliver_due(pool, session, strict) == 1

    outbox = await _outbox(pool)
    assert dns.asked == ["hooks.clinic.test"]
    assert sockets.made == []  # refused on the resolved address: no connection attempted
    assert outbox["attempts"] == 1 and outbox["delivered_at"] is None
    assert outbox["last_status"] is None
    assert f"hooks.clinic.test resolves to {INSIDE}" in outbox["last_error"]
    assert "a private address" in outbox["last_error"]


@pytest.mark.parametrize(
    "url",
    [f"https://{INSIDE}/telehub", "https://2130706433:5432/", "http://127.0.0.1:5432/"],
)
async def test_an_inside_url_saved_before_the_rule_is_refused_at_delivery_unsent(
    pool: asyncpg.Pool, network: Network, strict: Settings, url: str
) -> None:
    await _one_event_for(pool, network, url)
    dns = FakeResolver({})
    sockets = SocketRecorder()
    connector = webhook_connector(allow_private=False, resolver=dns, make_socket=sockets)

    async with aiohttp.ClientSession(connector=connector) as session:
        assert await deliver_due(pool, session, strict) == 1

    outbox = await _outbox(pool)
    assert dns.asked == [] and sockets.made == []
    assert outbox["delivered_at"] is None
    assert outbox["last_error"].startswith("refused: webhook URL must"), outbox["last_error"]


async def test_the_connector_itself_makes_no_socket_to_an_inside_address_literal() -> None:
    # IP literals never reach the resolver: the socket factory is the check on them.
    sockets = SocketRecorder()
    connector = webhook_connector(allow_private=False, make_socket=sockets)
    async with aiohttp.ClientSession(connector=connector) as session:
        for url in (f"https://{INSIDE}/in", "https://[::1]/in", "https://[::ffff:a00:5]/in"):
            with pytest.raises(aiohttp.ClientConnectorError) as refused:
                await session.post(url, data=b"{}")
            assert isinstance(refused.value.os_error, RefusedAddress), refused.value
    assert sockets.made == []


async def test_where_private_webhooks_are_allowed_the_same_path_reaches_a_loopback_receiver(
    pool: asyncpg.Pool, network: Network, settings: Settings, aiohttp_server: AiohttpServer
) -> None:
    # The control for the refusals above: the seams are real, and connect when allowed.
    received: list[bytes] = []

    async def hook(request: web.Request) -> web.Response:
        received.append(await request.read())
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    receiver = await aiohttp_server(app, host="127.0.0.1")
    await _one_event_for(pool, network, f"http://receiver:{receiver.port}/hook")
    dns = FakeResolver({"receiver": ["127.0.0.1"]})
    sockets = SocketRecorder()
    connector = webhook_connector(allow_private=True, resolver=dns, make_socket=sockets)

    async with aiohttp.ClientSession(connector=connector) as session:
        assert await deliver_due(pool, session, settings) == 1

    assert sockets.made == ["127.0.0.1"]
    assert len(received) == 1
    assert (await _outbox(pool))["last_status"] == 204


async def test_a_redirect_is_not_followed_and_counts_as_a_failed_attempt(
    pool: asyncpg.Pool, network: Network, settings: Settings, aiohttp_server: AiohttpServer
) -> None:
    elsewhere: list[str] = []

    async def other(request: web.Request) -> web.Response:
        elsewhere.append(request.path)
        return web.Response(status=204)

    other_app = web.Application()
    other_app.router.add_route("*", "/{tail:.*}", other)
    target = await aiohttp_server(other_app, host="127.0.0.1")

    async def redirect(request: web.Request) -> web.Response:
        raise web.HTTPTemporaryRedirect(f"http://127.0.0.1:{target.port}/internal")

    app = web.Application()
    app.router.add_post("/hook", redirect)
    receiver = await aiohttp_server(app, host="127.0.0.1")
    await _one_event_for(pool, network, f"http://127.0.0.1:{receiver.port}/hook")

    async with aiohttp.ClientSession(connector=webhook_connector(allow_private=True)) as session:
        assert await deliver_due(pool, session, settings) == 1

    outbox = await _outbox(pool)
    assert elsewhere == []
    assert outbox["delivered_at"] is None
    assert outbox["last_status"] == 307 and outbox["last_error"] == "HTTP 307"
