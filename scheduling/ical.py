"""iCalendar (RFC 5545) rendering of booking feeds, with the `icalendar` library.

Each VEVENT is a pure function of its booking's facts, so its rendered text is memoized
(in a `ByteLRU` the caller owns, bounded by bytes, under a digest of those facts): a feed of
2,000 events costs only the events that changed since it was last rendered (icalendar's line
folding is the slow part).
The calendar's own properties and VTIMEZONEs are rendered by icalendar too; the pieces are
joined between BEGIN and END:VCALENDAR.

Every text goes out as an icalendar `vText`, escaped (`\\n`, `\\;`, `\\,`, `\\\\`) whatever
property it fills. A plain `str` given to an X- property (X-WR-CALNAME) is written verbatim,
and icalendar refuses a raw newline there only with an `assert`: a 500 normally, and under
`python -O` a name holding CRLF could add properties and whole events to the feed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from hashlib import blake2b
from urllib.parse import quote
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, Timezone, vDuration, vText, vUri

from scheduling.feed_cache import ByteLRU

PRODID = "-//Telehub//Hub-and-spoke scheduling//EN"
REFRESH = timedelta(minutes=15)
_END = b"END:VCALENDAR\r\n"
# RFC 5545 TEXT allows no control characters but HTAB; line breaks are escaped by vText.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# A URI has no spaces or controls: everything but printable ASCII is percent-encoded.
_URI_SAFE = "".join(chr(c) for c in range(0x21, 0x7F))


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


def text(value: str) -> vText:
    """A TEXT value icalendar will escape: controls dropped, line breaks kept as `\\n`."""
    return vText(_CONTROL.sub("", value))


def uri(value: str) -> vUri:
    """A URI value: written verbatim by icalendar, so nothing in it may break the line."""
    return vUri(quote(value, safe=_URI_SAFE))


def memo_key(event: FeedEvent) -> bytes:
    """A 16-byte name for everything the event says: kept in the memo instead of the event,
    whose texts and datetimes would cost as much memory as the rendered text itself."""
    # repr() of a dataclass of strings, numbers and datetimes is unambiguous: every field,
    # quoted; BLAKE2b makes two different events sharing a key out of reach.
    return blake2b(repr(event).encode(), digest_size=16, person=b"telehub-vevent").digest()


def render_event(event: FeedEvent, cache: ByteLRU | None = None) -> bytes:
    """One VEVENT, as icalendar writes it (from `cache` when it was rendered before)."""
    key = memo_key(event) if cache is not None else b""
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    zone = ZoneInfo(event.zone)
    vevent = Event()
    vevent.add("uid", text(event.uid))
    # DTSTAMP: when this version of the event was made, so an unchanged event renders alike.
    vevent.add("dtstamp", event.last_modified)
    vevent.add("created", event.created)
    vevent.add("last-modified", event.last_modified)
    vevent.add("sequence", event.sequence)
    vevent.add("dtstart", event.start.astimezone(zone))
    vevent.add("dtend", event.end.astimezone(zone))
    vevent.add("summary", text(event.summary))
    vevent.add("description", text(event.description))
    vevent.add("status", "CANCELLED" if event.cancelled else "CONFIRMED")
    vevent.add("transp", "TRANSPARENT" if event.cancelled else "OPAQUE")
    vevent.add("class", "PRIVATE")
    if event.location:
        vevent.add("location", text(event.location))
    if event.url:
        vevent.add("url", uri(event.url))
    rendered = bytes(vevent.to_ical())
    if cache is not None:
        cache.put(key, rendered)
    return rendered


def render_timezone(zone: str, first: date, last: date, cache: ByteLRU | None = None) -> bytes:
    """A VTIMEZONE for `zone` covering the feed's window."""
    key = ("VTIMEZONE", zone, first, last)
    if cache is not None:
        found = cache.get(key)
        if found is not None:
            return found
    rendered = bytes(Timezone.from_tzinfo(ZoneInfo(zone), zone, first, last).to_ical())
    if cache is not None:
        cache.put(key, rendered)
    return rendered


def render_calendar(
    name: str,
    zone: str,
    events: Iterable[FeedEvent],
    window: tuple[date, date],
    cache: ByteLRU | None = None,
) -> bytes:
    """A whole feed: calendar properties, a VTIMEZONE for every TZID used, the events."""
    items = list(events)
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    calendar.add("name", text(name))  # RFC 7986
    calendar.add("x-wr-calname", text(name))  # what Google, Outlook and Apple read
    calendar.add("x-wr-timezone", text(zone))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vDuration(REFRESH))  # an X- property: say its type
    head = bytes(calendar.to_ical())
    if not head.endswith(_END):  # a real check: it must hold under `python -O` too
        raise RuntimeError("icalendar ended a calendar otherwise than with END:VCALENDAR")
    first, last = window[0] - timedelta(days=1), window[1] + timedelta(days=1)
    zones = sorted({zone} | {e.zone for e in items})
    parts = [head[: -len(_END)]]
    parts.extend(render_timezone(z, first, last, cache) for z in zones)
    parts.extend(render_event(e, cache) for e in items)
    parts.append(_END)
    return b"".join(parts)
