"""The care manager's pages: the caseload, a patient's episode of care, and the month's minutes."""

from __future__ import annotations

from aiohttp import web

routes = web.RouteTableDef()
