"""The HTTP side of calendar feeds, shared by consultants' and clinics' feeds.

`feed_handler` serves `/feeds/.../{token}.ics` with conditional GET; `mount_token_api` adds
the API to issue (rotate), inspect and revoke an owner's feed URL. The hub and spokes
packages each mount them with their own view of a feed.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from functools import partial

import asyncpg
from aiohttp import web

from scheduling import feed_store, feeds
from scheduling.feed_render import FeedRenderer
from scheduling.feed_store import FeedBooking, FeedOwner
from telehub import audit
from telehub.api import ApiRoutes
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.conditional import conditional
from telehub.db import connection, reading
from telehub.errors import NotFound
from telehub.keys import FEED_RENDERER, POOL, REPLICA, SETTINGS
from telehub.request import int_param, now_of, unit_of_work
from telehub.validation import NoInput, Output, UtcDatetime

FEED_FILE = "{token:[A-Za-z0-9_-]{20,100}}.ics"  # the secret part of a feed URL
CACHE_CONTROL = "private, max-age=300"


@dataclass(frozen=True, slots=True)
class FeedIdentity:
    """What a feed is called and in which zone it shows times."""

    name: str
    zone: str
    salt: str  # what else, besides the bookings, changes the feed's text (for its ETag)


async def feed_rendering(app: web.Application) -> AsyncIterator[None]:
    """The process's feed renderer (worker thread and memo), stopped with the app."""
    renderer = FeedRenderer(app[SETTINGS].feed_cache_bytes)
    app[FEED_RENDERER] = renderer
    yield
    await asyncio.to_thread(renderer.close)


# The owner's identity (None: gone), read on every poll; keep it cheap.
Describe = Callable[[asyncpg.Connection, FeedOwner], Awaitable[FeedIdentity | None]]
# How each booking is labelled, read only when the feed is rendered.
LabelsFor = Callable[
    [asyncpg.Connection, FeedOwner, list[FeedBooking], str], Awaitable[feeds.Labeler]
]


def feed_handler(
    describe: Describe, labels_for: LabelsFor, *, kind: str
) -> Callable[[web.Request], Awaitable[web.Response]]:
    """A GET/HEAD handler for `{token}.ics`: 404 for an unknown or revoked token."""

    async def handler(request: web.Request) -> web.Response:
        settings, renderer = request.app[SETTINGS], request.app[FEED_RENDERER]
        pool, wait = request.app[POOL], settings.db_acquire_timeout
        window = feeds.Window.around(now_of(request))
        # Polled by calendar apps all day: the replica answers whether anything changed; the
        # rendering (it writes an audit line) stays on the primary.
        async with reading(pool, request.app.get(REPLICA), wait) as conn:
            owner = await feeds.resolve(conn, request.match_info["token"])
            if owner is None or (owner.consultant_id is None) == (kind == "consultant"):
                raise NotFound("no such feed")
            identity = await describe(conn, owner)
            if identity is None:
                raise NotFound("no such feed")
            etag, last_modified = await feeds.version(conn, owner, window, identity.salt)

        async def render() -> bytes:
            async with connection(pool, wait) as conn:
                bookings = await feed_store.feed_bookings(conn, owner, window.start, window.end)
                label = await labels_for(conn, owner, bookings, settings.base_url)
                who = f"{kind}:{owner.consultant_id or owner.spoke_id}"
                await audit.record(
                    conn, Trail(f"feed:{who}"), "read", "booking_feed", [who], owner.spoke_id
                )
            # The reads above ran on the loop; the rendering runs in a worker thread, with
            # the connection back in the pool: cold feeds after a restart queue for the
            # thread, not for connections, and every other request goes on meanwhile.
            events = partial(feeds.feed_events, bookings, zone=identity.zone, label=label)
            return await renderer.render(identity.name, identity.zone, events, window.dates)

        return await conditional(
            request,
            etag=etag,
            last_modified=last_modified,
            content_type="text/calendar",
            cache_control=CACHE_CONTROL,
            render=render,
        )

    handler.__name__ = f"{kind}_feed"
    handler.__doc__ = f"A {kind}'s schedule as an iCalendar subscription (no patient data)."
    return handler


class FeedUrlOut(Output):
    """A new secret feed URL: subscribe to it in a calendar app (the owner may see it again)."""

    url: str
    issued_at: UtcDatetime


class FeedStatusOut(Output):
    """Whether an owner has a current feed URL, and since when."""

    active: bool
    issued_at: UtcDatetime | None


def mount_token_api(
    api: ApiRoutes,
    *,
    kind: str,
    path: str,
    feed_path: str,
    owner_for: Callable[[Caller, int], FeedOwner],
    exists: Callable[[asyncpg.Connection, int], Awaitable[bool]],
) -> None:
    """Add POST (issue or rotate), GET (status) and DELETE (revoke) of an owner's feed URL."""
    ids = {"id": "integer"}

    async def owned(request: web.Request, caller: Caller, conn: asyncpg.Connection) -> FeedOwner:
        owner_id = int_param(request, "id")
        owner = owner_for(caller, owner_id)
        if not await exists(conn, owner_id):
            raise NotFound(f"no such {kind}")
        return owner

    @api.operation(
        "POST",
        path,
        name=f"rotate_{kind}_feed",
        summary=f"Issue a new {kind} feed URL (the old one stops at once)",
        scope="feeds:write",
        input=NoInput,
        output=FeedUrlOut,
        status=201,
        errors=(404,),
        path_params=ids,
        location=lambda request, body: str(body["url"]),  # the new feed itself
    )
    async def rotate(request: web.Request, caller: Caller, _: NoInput) -> FeedUrlOut:
        settings = request.app[SETTINGS]
        async with unit_of_work(request) as conn:
            owner = await owned(request, caller, conn)
            token = await feeds.issue_token(conn, owner, secret_key=settings.secret_key)
        base = settings.base_url
        return FeedUrlOut(url=f"{base}{feed_path}/{token}.ics", issued_at=now_of(request))

    @api.operation(
        "GET",
        path,
        name=f"get_{kind}_feed",
        summary=f"Whether the {kind} has a feed URL",
        scope="feeds:write",
        input=NoInput,
        output=FeedStatusOut,
        errors=(404,),
        path_params=ids,
    )
    async def status(request: web.Request, caller: Caller, _: NoInput) -> FeedStatusOut:
        async with unit_of_work(request) as conn:
            since = await feed_store.active_token_since(conn, await owned(request, caller, conn))
        return FeedStatusOut(active=since is not None, issued_at=since)

    @api.operation(
        "DELETE",
        path,
        name=f"revoke_{kind}_feed",
        summary=f"Revoke the {kind}'s feed URL",
        scope="feeds:write",
        input=NoInput,
        output=None,
        status=204,
        errors=(404,),
        path_params=ids,
    )
    async def revoke(request: web.Request, caller: Caller, _: NoInput) -> web.Response:
        async with unit_of_work(request) as conn:
            await feeds.revoke(conn, await owned(request, caller, conn))
        return web.Response(status=204)
