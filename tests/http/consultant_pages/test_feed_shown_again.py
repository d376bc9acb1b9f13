"""The consultant's feed page shows the current URL again; rotating and revoking ask first."""

from __future__ import annotations

from urllib.parse import urlsplit

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import feeds
from scheduling.feed_store import FeedOwner
from tests.http.consultant_pages.support import Hub, post, value_of

PAGE = "/hub/feed"
YES = {"confirmed": "yes"}


async def shown_url(client: TestClient) -> str:
    """The feed URL the page shows now."""
    return value_of(await (await client.get(PAGE)).text(), "feed-url")


async def tokens(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    """Every feed token row, oldest first."""
    return await conn.fetch("SELECT token_hash, revoked_at FROM feed_tokens ORDER BY id")


async def test_the_current_url_is_shown_again_and_is_the_one_that_works(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    assert (await post(client, PAGE, {}, PAGE)).status == 303  # create: nothing to lose yet

    first, again = await shown_url(client), await shown_url(client)

    assert first == again
    calendar = await client.get(urlsplit(first).path)
    assert calendar.status == 200 and "BEGIN:VCALENDAR" in await calendar.text()
    [row] = await tokens(conn)
    assert urlsplit(first).path.rsplit("/", 1)[1].removesuffix(".ics").encode() not in bytes(
        await conn.fetchval("SELECT token_sealed FROM feed_tokens")
    )  # kept sealed, not as text
    assert row["revoked_at"] is None


async def test_rotating_without_confirming_asks_and_changes_nothing(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    await post(client, PAGE, {}, PAGE)
    before, rows = await shown_url(client), await tokens(conn)

    asked = await post(client, PAGE, {}, PAGE)

    assert asked.status == 200
    html = await asked.text()
    assert '<details class="confirm" open>' in html and "Yes, rotate URL" in html
    assert await tokens(conn) == rows
    assert await shown_url(client) == before
    assert (await client.get(urlsplit(before).path)).status == 200


async def test_rotating_once_confirmed_shows_a_new_url_and_the_old_one_stops(
    client: TestClient, hub: Hub
) -> None:
    await post(client, PAGE, {}, PAGE)
    old = await shown_url(client)

    rotated = await post(client, PAGE, YES, PAGE)

    assert rotated.status == 303
    new = await shown_url(client)
    assert new != old
    assert (await client.get(urlsplit(old).path)).status == 404
    assert (await client.get(urlsplit(new).path)).status == 200


async def test_revoking_asks_first_then_stops_the_url(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    await post(client, PAGE, {}, PAGE)
    url = await shown_url(client)

    asked = await post(client, f"{PAGE}/revoke", {}, PAGE)
    assert asked.status == 200 and "Yes, revoke URL" in await asked.text()
    assert (await client.get(urlsplit(url).path)).status == 200

    assert (await post(client, f"{PAGE}/revoke", YES, PAGE)).status == 303
    assert (await client.get(urlsplit(url).path)).status == 404
    assert "Create feed URL" in await (await client.get(PAGE)).text()


async def test_a_url_issued_before_copies_were_kept_says_to_rotate_for_a_new_one(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    token = await feeds.issue_token(conn, FeedOwner(consultant_id=hub.consultant.id))

    html = await (await client.get(PAGE)).text()

    assert token not in html and 'id="feed-url"' not in html
    assert "cannot be shown again" in html and "rotate to get a new one" in html
    assert "Rotate URL" in html
