"""Feed tokens (rotated, revoked, unknown: 404; never logged) and cheap conditional polling
(304 until something changes, HEAD like GET)."""

from __future__ import annotations

import io
import json

from aiohttp.test_utils import TestClient

from telehub.logging import configure_logging
from tests.factories import Network
from tests.http.feeds.support import Scene, feed_url


async def test_a_rotated_revoked_or_unknown_token_answers_404(
    client: TestClient, network: Network, scene: Scene
) -> None:
    api = f"/api/v1/consultants/{scene.consultant_id}/feed"
    own = network.consultant_headers(scene.consultant_id)
    first = await feed_url(client, api, own)
    assert (await client.get(first)).status == 200
    second = await feed_url(client, api, own)

    assert (await client.get(first)).status == 404
    assert (await client.get(second)).status == 200
    assert (await client.get("/feeds/consultants/" + "A" * 43 + ".ics")).status == 404
    assert (await client.get(second.replace("consultants", "spokes"))).status == 404
    status = await (await client.get(api, headers=own)).json()
    assert status["active"] is True
    assert (await client.delete(api, headers=own)).status == 204
    assert (await client.get(second)).status == 404
    assert (await (await client.get(api, headers=own)).json())["active"] is False
    other = network.consultant_headers(scene.consultant_id + 1)
    assert (await client.post(api, headers=other)).status == 403


async def test_polling_is_answered_304_until_something_changes(
    client: TestClient, network: Network, scene: Scene
) -> None:
    path = await feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    first = await client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    by_etag = await client.get(path, headers={"If-None-Match": etag})
    by_date = await client.get(path, headers={"If-Modified-Since": modified})
    head = await client.head(path)

    assert (by_etag.status, await by_etag.read()) == (304, b"")
    assert by_etag.headers["ETag"] == etag
    assert by_date.status == 304
    assert head.status == 200 and head.headers["ETag"] == etag and await head.read() == b""
    await client.post(
        f"/api/v1/bookings/{scene.booking_ids[3]}/cancel",
        json={"reason": "moved"},
        headers=scene.other.headers,
    )
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag


async def test_a_feed_token_never_reaches_the_logs(
    client: TestClient, network: Network, scene: Scene
) -> None:
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    try:
        path = await feed_url(
            client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
        )
        await client.get(path)
        await client.get(path.replace(".ics", "x.ics"))
    finally:
        configure_logging(json=True)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in buffer.getvalue()
    routes = [json.loads(line)["route"] for line in buffer.getvalue().splitlines()]
    assert "/feeds/consultants/{token}.ics" in routes


async def test_head_carries_the_content_length_of_get(
    client: TestClient, network: Network, scene: Scene
) -> None:
    path = await feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    got = await client.get(path)
    body = await got.read()
    head = await client.head(path)

    assert head.status == 200 and await head.read() == b""
    assert int(got.headers["Content-Length"]) == len(body) > 0
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]
