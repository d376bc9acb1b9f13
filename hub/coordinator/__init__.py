"""The hub coordinator's pages, mounted by `setup(app)`: the program dashboard (`dashboard`),
consultants, clinics and services (`network`), API clients and webhook deliveries (`clients`).

Each page module has its own route table and imports no other page module; what they share
lives in `common`.
"""

from __future__ import annotations

from aiohttp import web

from hub.coordinator import clients, dashboard, groups, network

# The order routes were mounted in before the split.
ROUTES: tuple[web.RouteTableDef, ...] = (
    dashboard.routes,
    clients.routes,
    network.routes,
    groups.routes,
)


def setup(app: web.Application) -> None:
    """Mount the coordinator's pages."""
    for routes in ROUTES:
        app.router.add_routes(routes)
