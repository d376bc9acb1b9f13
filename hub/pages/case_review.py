"""The consultant's registry pages: a case review's agenda with the recommendation form, and the
worklist of the consultant's patients, safety flags first."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
