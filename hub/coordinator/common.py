"""What the coordinator's pages share: the hub's time zone, and the time zones to choose from."""

from __future__ import annotations

from functools import cache
from zoneinfo import ZoneInfo, available_timezones

from aiohttp import web

from telehub.keys import SETTINGS

# Where the hub's clinics and consultants are: offered first, in this order.
US_ZONES = (
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
)

# What each event pushed to a clinic is, in words.
EVENTS = {
    "note.signed": "Signed consult note",
    "note.amended": "Amended consult note",
    "group.seat_assigned": "Group seat given from the waitlist",
    "slot.opened": "An earlier time opened (waitlist)",
    "registry.safety_flag": "Registry safety flag (PHQ-9 question 9)",
}


def hub_zone(request: web.Request) -> ZoneInfo:
    """The hub's time zone: coordinators read every time and week in it."""
    return ZoneInfo(request.app[SETTINGS].hub_timezone)


@cache
def zone_choices() -> tuple[str, ...]:
    """Every IANA time zone a form may take, the US ones first, then the rest by name."""
    rest = sorted((available_timezones() | {"UTC"}) - set(US_ZONES))
    return (*US_ZONES, *rest)
