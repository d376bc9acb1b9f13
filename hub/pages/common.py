"""What the consultant's pages share: who is signed in, and their time zone in words."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web

from telehub.errors import NotFound
from telehub.users import User
from telehub.web import signed_in, zone_name

ROLE = "consultant"


def consultant_user(request: web.Request) -> tuple[User, int]:
    """The signed-in consultant and their consultant id; anyone else gets 403."""
    user = signed_in(request, ROLE)
    if user.consultant_id is None:  # the schema ties the role to a consultant; be sure
        raise NotFound("no consultant belongs to this sign-in")
    return user, user.consultant_id


def zone_label(zone: str, now: datetime) -> str:
    """A time zone as people recognise it: 'America/Los Angeles (PST, UTC-08:00)'."""
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{zone_name(zone)} ({local.strftime('%Z')}, UTC{offset[:3]}:{offset[3:]})"
