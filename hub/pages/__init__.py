"""The consultant's pages (my week, availability, e-consults, notes, my feed), mounted by `setup`.

Each page module has its own route table and imports no other page module; what several
pages share lives in `common`, `note_editor` (the consult-note form) and `econsult_view`
(one case's page, shown by its routes and again when signing fails).
"""

from __future__ import annotations

from aiohttp import web

from hub.pages import availability, case_review, econsults, feed, groups, session_notes, week

# The order routes were mounted in before the split.
ROUTES: tuple[web.RouteTableDef, ...] = (
    week.routes,
    availability.routes,
    econsults.routes,
    feed.routes,
    session_notes.routes,
    groups.routes,
    case_review.routes,
)


def setup(app: web.Application) -> None:
    """Mount the consultant's pages."""
    for routes in ROUTES:
        app.router.add_routes(routes)
