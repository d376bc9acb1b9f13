"""The consultant's calendar feed: the secret URL to subscribe to, shown whenever they look;
rotating or revoking it asks first (calendars subscribed to the old URL stop updating)."""

from __future__ import annotations

from aiohttp import web

from hub import views
from hub.feeds import FEED_PATH
from hub.pages.common import consultant_user
from scheduling import feeds
from scheduling.feed_store import FeedOwner
from telehub import forms
from telehub.keys import SETTINGS
from telehub.request import unit_of_work
from telehub.web import render, see_other, url_for

routes = web.RouteTableDef()


async def _feed_page(request: web.Request, *, ask: str | None = None) -> web.Response:
    """The page; `ask` opens the question of an action that was posted without its answer."""
    _, consultant_id = consultant_user(request)
    settings = request.app[SETTINGS]
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        current = await views.feed(conn, consultant_id, settings.secret_key)
    url = (
        f"{settings.base_url}{FEED_PATH}/{current.token}.ics" if current and current.token else None
    )
    return render(
        request,
        "hub/feed.html",
        {"consultant": consultant, "current": current, "feed_url": url, "ask": ask},
    )


async def _confirmed(request: web.Request) -> bool:
    return (await forms.typed_form(request)).get("confirmed") == "yes"


@routes.get("/hub/feed", name="hub_feed")
async def feed(request: web.Request) -> web.Response:
    """My feed URL (to copy again), since when, and how to subscribe."""
    return await _feed_page(request)


@routes.post("/hub/feed", name="hub_feed_rotate")
async def rotate(request: web.Request) -> web.Response:
    """Create the feed URL, or replace it once confirmed: the previous one stops working now."""
    _, consultant_id = consultant_user(request)
    secret_key = request.app[SETTINGS].secret_key
    confirmed = await _confirmed(request)
    owner = FeedOwner(consultant_id=consultant_id)
    async with unit_of_work(request) as conn:
        existing = await views.feed(conn, consultant_id, secret_key)
        if existing is None or confirmed:
            await feeds.issue_token(conn, owner, secret_key=secret_key)
    if existing is not None and not confirmed:
        return await _feed_page(request, ask="rotate")  # nothing changed: ask first
    notice = (
        "Your new feed URL is below. The old one has stopped working: give your calendar app "
        "the new one."
        if existing
        else "Your feed URL is ready: copy it into your calendar app."
    )
    raise await see_other(request, url_for(request, "hub_feed"), notice)


@routes.post("/hub/feed/revoke", name="hub_feed_revoke")
async def revoke(request: web.Request) -> web.Response:
    """Stop the feed URL, once confirmed; calendars subscribed to it stop updating."""
    _, consultant_id = consultant_user(request)
    if not await _confirmed(request):
        return await _feed_page(request, ask="revoke")  # nothing changed: ask first
    async with unit_of_work(request) as conn:
        revoked = await feeds.revoke(conn, FeedOwner(consultant_id=consultant_id))
    notice = (
        "Your feed URL is revoked: calendars subscribed to it no longer update."
        if revoked
        else "You had no feed URL to revoke."
    )
    raise await see_other(request, url_for(request, "hub_feed"), notice)
