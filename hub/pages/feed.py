"""The consultant's calendar feed: a secret URL to subscribe to, shown once; rotate or revoke."""

from __future__ import annotations

from aiohttp import web

from hub import views
from hub.feeds import FEED_PATH
from hub.pages.common import consultant_user
from scheduling import feeds
from scheduling.feed_store import FeedOwner
from telehub.keys import SETTINGS
from telehub.request import unit_of_work
from telehub.web import render, see_other, url_for

routes = web.RouteTableDef()


async def _feed_page(request: web.Request, *, new_url: str | None) -> web.Response:
    _, consultant_id = consultant_user(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        shown = await views.feed(conn, consultant_id)
    return render(
        request,
        "hub/feed.html",
        {"consultant": consultant, "since": shown.since, "new_url": new_url},
    )


@routes.get("/hub/feed", name="hub_feed")
async def feed(request: web.Request) -> web.Response:
    """Whether I have a feed URL, since when, and how to subscribe."""
    return await _feed_page(request, new_url=None)


@routes.post("/hub/feed", name="hub_feed_rotate")
async def rotate(request: web.Request) -> web.Response:
    """A new feed URL, shown this once; the previous one stops working now."""
    _, consultant_id = consultant_user(request)
    async with unit_of_work(request) as conn:
        token = await feeds.issue_token(conn, FeedOwner(consultant_id=consultant_id))
    url = f"{request.app[SETTINGS].base_url}{FEED_PATH}/{token}.ics"
    return await _feed_page(request, new_url=url)


@routes.post("/hub/feed/revoke", name="hub_feed_revoke")
async def revoke(request: web.Request) -> web.Response:
    """Stop the feed URL; calendars subscribed to it stop updating."""
    _, consultant_id = consultant_user(request)
    async with unit_of_work(request) as conn:
        revoked = await views.revoke_feed(conn, consultant_id)
    notice = (
        "Your feed URL is revoked: calendars subscribed to it no longer update."
        if revoked
        else "You had no feed URL to revoke."
    )
    raise await see_other(request, url_for(request, "hub_feed"), notice)
