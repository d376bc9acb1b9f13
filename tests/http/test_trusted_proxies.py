"""Behind a trusted reverse proxy, users are throttled by their own address, not the proxy's."""

from __future__ import annotations

import dataclasses

import asyncpg
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.settings import Settings, parse_networks
from tests.factories import SIGNIN_TOKEN, Clock, Network


async def _guess(client: TestClient, email: str, forwarded_for: str) -> int:
    """One wrong password, sent through the proxy on behalf of `forwarded_for`."""
    page = await client.get("/signin")
    token = SIGNIN_TOKEN.findall(await page.text())[0]
    response = await client.post(
        "/signin",
        data={"email": email, "password": "Summer2027!", "csrf_token": token},
        headers={"X-Forwarded-For": forwarded_for},
        allow_redirects=False,
    )
    return response.status


async def _spray(client: TestClient, network: Network) -> tuple[list[int], int]:
    """Eleven guesses on eleven accounts from 198.51.100.1, then one from 198.51.100.2."""
    spoke = await network.spoke()
    emails = [(await network.user("spoke_scheduler", spoke_id=spoke.id))[0] for _ in range(12)]
    attacker = [await _guess(client, e, "192.0.2.9, 198.51.100.1") for e in emails[:11]]
    return attacker, await _guess(client, emails[11], "198.51.100.2")


async def test_two_clients_behind_a_trusted_proxy_are_throttled_apart(
    pool: asyncpg.Pool,
    aiohttp_client: AiohttpClient,
    settings: Settings,
    clock: Clock,
    network: Network,
) -> None:
    behind_proxy = dataclasses.replace(settings, trusted_proxies=parse_networks("127.0.0.1"))
    client = await aiohttp_client(create_app(behind_proxy, pool=pool, clock=clock))
    attacker, other = await _spray(client, network)
    assert attacker == [401] * 10 + [429]  # the address limit: ten free
    assert other == 401  # another user behind the same proxy still gets to try


async def test_forwarded_for_from_a_peer_that_is_not_a_trusted_proxy_changes_nothing(
    client: TestClient, network: Network
) -> None:
    attacker, other = await _spray(client, network)
    assert attacker == [401] * 10 + [429]
    assert other == 429  # the same peer: a client cannot pick its own address
