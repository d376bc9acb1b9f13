"""What the consultant's pages share: who is signed in, their record, names and labels."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from zoneinfo import ZoneInfo

import asyncpg
from aiohttp import web

from hub import store
from scheduling import store as scheduling_store
from spokes import store as spokes_store
from telehub.errors import NotFound
from telehub.users import User
from telehub.web import signed_in

ROLE = "consultant"
STATUS_LABELS = {
    "booked": "booked",
    "cancelled": "cancelled",
    "completed": "completed",
    "no_show": "no-show",
    "submitted": "submitted",
    "assigned": "to answer",
    "awaiting_clinic": "awaiting clinic (clock paused)",
    "answered": "answered",
    "closed": "closed",
}


def consultant_user(request: web.Request) -> tuple[User, int]:
    """The signed-in consultant and their consultant id; anyone else gets 403."""
    user = signed_in(request, ROLE)
    if user.consultant_id is None:  # the schema ties the role to a consultant; be sure
        raise NotFound("no consultant belongs to this sign-in")
    return user, user.consultant_id


async def consultant_of(conn: asyncpg.Connection, consultant_id: int) -> store.Consultant:
    """The consultant whose pages these are."""
    consultant = await store.get_consultant(conn, consultant_id)
    if consultant is None:
        raise NotFound("no such consultant")
    return consultant


def zone_label(zone: str, now: datetime) -> str:
    """A time zone as people recognise it: 'America/Los_Angeles (PST, UTC-08:00)'."""
    local = now.astimezone(ZoneInfo(zone))
    offset = local.strftime("%z")
    return f"{zone} ({local.strftime('%Z')}, UTC{offset[:3]}:{offset[3:]})"


async def services_by_id(
    conn: asyncpg.Connection, ids: Iterable[int]
) -> dict[int, scheduling_store.Service]:
    """The services named, including retired ones that old bookings still point at."""
    found = {s.id: s for s in await scheduling_store.list_services(conn)}
    for service_id in set(ids) - found.keys():
        service = await scheduling_store.get_service(conn, service_id)
        if service is not None:
            found[service_id] = service
    return found


async def spokes_by_id(conn: asyncpg.Connection) -> dict[int, spokes_store.Spoke]:
    """Every clinic by id (a handful: names for the pages)."""
    return {s.id: s for s in await spokes_store.list_spokes(conn)}
