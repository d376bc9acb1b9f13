"""The hub coordinator's pages: the network, API clients, deliveries, the program dashboard."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
