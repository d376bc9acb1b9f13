"""The clinic's dashboard: today and upcoming sessions, notes to acknowledge, e-consults."""

from __future__ import annotations

from aiohttp import web

from spokes.overview import clinic_dashboard
from telehub.request import now_of, trail_of, unit_of_work
from telehub.web import ROLES_SPOKE, render, signed_in

routes = web.RouteTableDef()


@routes.get("/spoke", name="spoke_dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """Today and upcoming sessions, notes to acknowledge, e-consults past due or waiting on us."""
    user = signed_in(request, *ROLES_SPOKE)
    caller = user.caller
    async with unit_of_work(request) as conn:
        shown = await clinic_dashboard(conn, caller, trail_of(request, caller), now_of(request))
    return render(request, "spokes/dashboard.html", {"d": shown, "spoke": shown.spoke})
