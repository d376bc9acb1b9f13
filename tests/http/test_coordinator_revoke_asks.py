"""Revoking an API client asks once, saying what will happen; a post without the answer
changes nothing and asks again."""

from __future__ import annotations

import html
import re

import asyncpg
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Network
from tests.http.coordinator_support import coordinator, post_form

QUESTION = (
    "Hub reports will get no new tokens, and those it holds expire within {} minutes. "
    "This cannot be undone: to connect the system again, register a new client."
)


async def _registered(client: TestClient, conn: asyncpg.Connection) -> str:
    """A hub system registered through the form; its client id."""
    made = await post_form(
        client, "/coordinator/clients", {"name": "Hub reports", "kind": "hub_admin"}
    )
    assert made.status == 200
    return str(await conn.fetchval("SELECT client_id FROM api_clients WHERE name = 'Hub reports'"))


async def test_the_clients_page_asks_before_revoking_saying_what_will_happen(
    client: TestClient, network: Network, conn: asyncpg.Connection, settings: Settings
) -> None:
    await coordinator(client, network)
    client_id = await _registered(client, conn)
    page = await (await client.get("/coordinator/clients")).text()
    question = re.search(
        r'<details class="confirm">\s*<summary class="button danger">Revoke…</summary>'
        r"(.*?)</details>",
        page,
        flags=re.DOTALL,
    )
    assert question, page
    body = html.unescape(question[1])
    assert QUESTION.format(settings.access_token_ttl // 60) in body
    assert f'action="/coordinator/clients/{client_id}/revoke"' in body
    assert '<input type="hidden" name="confirmed" value="yes">' in body


async def test_a_revoke_without_the_answer_changes_nothing_and_asks_again(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    client_id = await _registered(client, conn)
    for answer in ({}, {"confirmed": "no"}):
        response = await post_form(
            client, f"/coordinator/clients/{client_id}/revoke", answer, page="/coordinator/clients"
        )
        assert response.status == 200
        page = html.unescape(await response.text())
        assert '<h2 id="revoke-question">Revoke Hub reports?</h2>' in page
        assert "Hub reports will get no new tokens" in page
        assert await conn.fetchval("SELECT active FROM api_clients WHERE client_id = $1", client_id)

    confirmed = await post_form(
        client,
        f"/coordinator/clients/{client_id}/revoke",
        {"confirmed": "yes"},
        page="/coordinator/clients",
    )
    assert confirmed.status == 303
    assert not await conn.fetchval("SELECT active FROM api_clients WHERE client_id = $1", client_id)
