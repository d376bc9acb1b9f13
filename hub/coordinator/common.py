"""What the coordinator's pages share: the hub's time zone."""

from __future__ import annotations

from zoneinfo import ZoneInfo

from aiohttp import web

from telehub.keys import SETTINGS


def hub_zone(request: web.Request) -> ZoneInfo:
    """The hub's time zone: coordinators read every time and week in it."""
    return ZoneInfo(request.app[SETTINGS].hub_timezone)
