"""Consultants' calendar feeds: their sessions, case reviews and e-consult review blocks."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from consults import store as consults_store
from hub import store
from scheduling.feed_store import FeedBooking, FeedOwner
from scheduling.feeds import Labeler
from scheduling.feeds_web import FEED_FILE, FeedIdentity, feed_handler, mount_token_api
from spokes import store as spokes_store
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.errors import Forbidden

FEED_PATH = "/feeds/consultants"
routes = web.RouteTableDef()
api = ApiRoutes(tag="feeds")


async def describe(conn: asyncpg.Connection, owner: FeedOwner) -> FeedIdentity | None:
    """The consultant's feed: named for them, in their own time zone."""
    assert owner.consultant_id is not None
    consultant = await store.get_consultant(conn, owner.consultant_id)
    if consultant is None:
        return None
    title = f"Telehub · {consultant.name}" + (
        f", {consultant.credentials}" if consultant.credentials else ""
    )
    return FeedIdentity(title, consultant.timezone, f"{title}|{consultant.timezone}")


async def labels_for(
    conn: asyncpg.Connection, owner: FeedOwner, bookings: list[FeedBooking], base_url: str
) -> Labeler:
    """Each event names the clinic; an e-consult review block links to its case."""
    clinics = {s.id: s.name for s in await spokes_store.list_spokes(conn)}
    cases = await consults_store.econsults_by_booking(
        conn, [b.id for b in bookings if b.service_kind == "econsult"]
    )

    def label(b: FeedBooking) -> tuple[str, str | None]:
        case = cases.get(b.id)
        return clinics.get(b.spoke_id, "Clinic"), (
            f"{base_url}/hub/econsults/{case}" if case else None
        )

    return label


routes.get(f"{FEED_PATH}/{FEED_FILE}", name="consultant_feed")(
    feed_handler(describe, labels_for, kind="consultant")
)


def _owner(caller: Caller, consultant_id: int) -> FeedOwner:
    if not caller.is_hub_admin and caller.consultant_id != consultant_id:
        raise Forbidden("only the hub or the consultant manages this feed")
    return FeedOwner(consultant_id=consultant_id)


async def _exists(conn: asyncpg.Connection, consultant_id: int) -> bool:
    return await store.get_consultant(conn, consultant_id) is not None


mount_token_api(
    api,
    kind="consultant",
    path="/api/v1/consultants/{id}/feed",
    feed_path=FEED_PATH,
    owner_for=_owner,
    exists=_exists,
)
