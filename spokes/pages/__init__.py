"""The clinic's pages (schedulers and clinicians of one spoke), mounted by `setup(app)`.

Each module has its own route table and imports no other page module; what several pages
share lives in `common`.
"""

from __future__ import annotations

from aiohttp import web

from spokes.pages import (
    book,
    bookings,
    consents,
    dashboard,
    econsults,
    find,
    groups,
    notes,
    patients,
    registry,
    series,
    visits,
    waitlist,
)

# The order routes were mounted in before the split (a fixed path before a {variable} one).
ROUTES: tuple[web.RouteTableDef, ...] = (
    dashboard.routes,
    book.routes,
    visits.routes,
    econsults.routes,
    find.routes,
    notes.routes,
    patients.routes,
    bookings.routes,
    groups.routes,  # /spoke/groups before /spoke/groups/{id}
    series.routes,  # /spoke/series/new before /spoke/series/{id}: one table, in order
    waitlist.routes,
    registry.routes,
    consents.routes,
)


def setup(app: web.Application) -> None:
    """Mount the clinic's pages."""
    for routes in ROUTES:
        app.router.add_routes(routes)
