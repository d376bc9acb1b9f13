"""iCalendar (RFC 5545) rendering of booking feeds, with the `icalendar` library.

Each VEVENT is a pure function of its booking's facts, so its rendered text is memoized:
a feed of 2,000 events costs only the events that changed since it was last rendered
(icalendar's line folding is the slow part). The calendar's own properties and VTIMEZONEs
are rendered by icalendar too; the pieces are joined between BEGIN and END:VCALENDAR.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration

PRODID = "-//Telehub//Hub-and-spoke scheduling//EN"
REFRESH = timedelta(minutes=15)
_END = b"END:VCALENDAR\r\n"


@dataclass(frozen=True, slots=True)
class FeedEvent:
    """Everything a feed may say about one booking: no patient data, by construction."""

    uid: str
    summary: str
    description: str
    start: datetime
    end: datetime
    zone: str
    cancelled: bool
    sequence: int
    created: datetime
    last_modified: datetime
    location: str | None = None
    url: str | None = None


@lru_cache(maxsize=50_000)
def render_event(event: FeedEvent) -> bytes:
    """One VEVENT, as icalendar writes it."""
    zone = ZoneInfo(event.zone)
    vevent = Event()
    vevent.add("uid", event.uid)
    # DTSTAMP: when this version of the event was made, so an unchanged event renders alike.
    vevent.add("dtstamp", event.last_modified)
    vevent.add("created", event.created)
    vevent.add("last-modified", event.last_modified)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", event.start.astimezone(zone))
    vevent.add("dtend", event.end.astimezone(zone))
    vevent.add("summary", event.summary)
    vevent.add("description", event.description)
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    vevent.add("class", "PRIVATE")
    if event.location:
        vevent.add("location", event.location)
    if event.url:
        vevent.add("url", event.url)
    return bytes(vevent.to_ical())


@lru_cache(maxsize=256)
def render_timezone(zone: str, first: date, last: date) -> bytes:
    """A VTIMEZONE for `zone` covering the feed's window."""
    return bytes(Timezone.from_tzinfo(ZoneInfo(zone), zone, first, last).to_ical())


def render_calendar(
    name: str, zone: str, events: Iterable[FeedEvent], window: tuple[date, date]
) -> bytes:
    """A whole feed: calendar properties, a VTIMEZONE for every TZID used, the events."""
    items = list(events)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("x-wr-calname", name)
    calendar.add("x-wr-timezone", zone)
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))  # an X- property: say its type
    head = bytes(calendar.to_ical())
    assert head.endswith(_END)
    first, last = window[0] - timedelta(days=1), window[1] + timedelta(days=1)
    zones = sorted({zone} | {e.zone for e in items})
    parts = [head[: -len(_END)]]
    parts.extend(render_timezone(z, first, last) for z in zones)
    parts.extend(render_event(e) for e in items)
    parts.append(_END)
    return b"".join(parts)
