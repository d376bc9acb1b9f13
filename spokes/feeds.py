"""Clinics' calendar feeds: every session booked for the clinic, with the consultant."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from hub import store as hub_store
from scheduling.feed_store import FeedBooking, FeedOwner
from scheduling.feeds import Labeler
from scheduling.feeds_web import FEED_FILE, FeedIdentity, feed_handler, mount_token_api
from spokes import store
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.errors import NotFound

FEED_PATH = "/feeds/spokes"
routes = web.RouteTableDef()
api = ApiRoutes(tag="feeds")


async def describe(conn: asyncpg.Connection, owner: FeedOwner) -> FeedIdentity | None:
    """The clinic's feed: named for it, in its own time zone."""
    assert owner.spoke_id is not None
    spoke = await store.get_spoke(conn, owner.spoke_id)
    if spoke is None:
        return None
    title = f"Telehub · {spoke.name}"
    return FeedIdentity(title, spoke.timezone, f"{title}|{spoke.timezone}")


async def labels_for(
    conn: asyncpg.Connection, owner: FeedOwner, bookings: list[FeedBooking], base_url: str
) -> Labeler:
    """Each event names the consultant and links to the booking in the clinic's pages."""
    people = {
        c.id: f"{c.name}, {c.credentials}" if c.credentials else c.name
        for c in await hub_store.list_consultants(conn, include_inactive=True)
    }

    def label(b: FeedBooking) -> tuple[str, str | None]:
        return people.get(b.consultant_id, "Hub consultant"), f"{base_url}/spoke/bookings/{b.id}"

    return label


routes.get(f"{FEED_PATH}/{FEED_FILE}", name="spoke_feed")(
    feed_handler(describe, labels_for, kind="spoke")
)


def _owner(caller: Caller, spoke_id: int) -> FeedOwner:
    if not caller.is_hub_admin and caller.spoke_id != spoke_id:
        raise NotFound("no such spoke")  # another clinic answers like a missing one
    return FeedOwner(spoke_id=spoke_id)


async def _exists(conn: asyncpg.Connection, spoke_id: int) -> bool:
    return await store.get_spoke(conn, spoke_id) is not None


mount_token_api(
    api,
    kind="spoke",
    path="/api/v1/spokes/{id}/feed",
    feed_path=FEED_PATH,
    owner_for=_owner,
    exists=_exists,
)
