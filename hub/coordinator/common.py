"""What the coordinator's pages share: the hub's time zone, and form errors in plain words."""

from __future__ import annotations

import re
from zoneinfo import ZoneInfo

from aiohttp import web

from telehub.keys import SETTINGS


def hub_zone(request: web.Request) -> ZoneInfo:
    """The hub's time zone: coordinators read every time and week in it."""
    return ZoneInfo(request.app[SETTINGS].hub_timezone)


# Validation messages in the words of a form, saying what to do rather than what failed.
_PLAIN = (
    (re.compile(r"^List should have at least 1 item.*"), "choose at least one"),
    (re.compile(r"^Input should be greater than or equal to (\S+)$"), r"must be \1 or more"),
    (re.compile(r"^Input should be less than or equal to (\S+)$"), r"must be \1 or less"),
    (re.compile(r"^Input should be a valid integer.*"), "must be a whole number"),
    (
        re.compile(r"^String should have at most (\d+) characters?$"),
        r"must be at most \1 characters",
    ),
    (re.compile(r"^Input should be '.*"), "choose one of the options"),
)


def form_errors(errors: dict[str, str], *lists: str) -> dict[str, str]:
    """Errors in plain words; one about a list item (`service_ids.1`) is shown at its field."""
    out: dict[str, str] = {}
    for field, message in errors.items():
        head = field.split(".", 1)[0]
        for pattern, plain in _PLAIN:
            message = pattern.sub(plain, message)
        out.setdefault(head if head in lists else field, message)
    return out
