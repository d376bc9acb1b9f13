"""The consultant's pages: my week, availability, the e-consult worklist, notes, my feed."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
