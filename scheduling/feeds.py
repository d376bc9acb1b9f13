"""Calendar feeds: secret URLs, the window they cover, and the events they show.

A feed token is 256 random bits, shown once and stored only as a hash; rotating it revokes
the old one at once. A feed never carries patient data: its events are built from the
booking's service, time, clinic or consultant name, reference and video link only.
"""

from __future__ import annotations

import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

import asyncpg

from scheduling import feed_store
from scheduling.bookings import reference
from scheduling.feed_store import FeedBooking, FeedOwner
from scheduling.ical import FeedEvent
from telehub.auth import hash_secret

BACK = timedelta(days=30)
AHEAD = timedelta(days=180)
KIND_LABELS = {
    "econsult": "E-consult review",
    "video_session": "Video session",
    "case_review": "Case review",
}


@dataclass(frozen=True, slots=True)
class Window:
    """The span a feed covers: a month back, six months ahead, in whole UTC days."""

    start: datetime
    end: datetime

    @classmethod
    def around(cls, now: datetime) -> Window:
        """The window for `now` (stable through a day, so ETags are too)."""
        today = now.replace(hour=0, minute=0, second=0, microsecond=0)
        return cls(today - BACK, today + AHEAD)

    @property
    def dates(self) -> tuple[date, date]:
        """First and last date of the window."""
        return self.start.date(), self.end.date()


async def issue_token(conn: asyncpg.Connection, owner: FeedOwner) -> str:
    """A new secret feed token for the owner; the previous one stops working now."""
    token = secrets.token_urlsafe(32)
    await feed_store.replace_token(conn, owner, hash_secret(token))
    return token


async def resolve(conn: asyncpg.Connection, token: str) -> FeedOwner | None:
    """Whose feed a token opens, if it is current."""
    presented = hash_secret(token)
    found = await feed_store.owner_of(conn, presented)
    if found is None:
        return None
    owner, stored = found
    # The lookup was by hash; compare again in constant time before trusting it.
    return owner if hmac.compare_digest(presented, stored) else None


async def version(
    conn: asyncpg.Connection, owner: FeedOwner, window: Window, salt: str
) -> tuple[str, datetime | None]:
    """The feed's ETag and Last-Modified, from the database alone (no rendering)."""
    fingerprint, last_modified = await feed_store.feed_version(
        conn, owner, window.start, window.end
    )
    tag = hash_secret(f"{salt}|{window.start.date()}|{fingerprint}").hex()[:32]
    return tag, last_modified


# For one booking: who is on the other side (a clinic or a consultant), and a link to the case.
Labeler = Callable[[FeedBooking], tuple[str, str | None]]


def feed_events(bookings: list[FeedBooking], *, zone: str, label: Labeler) -> list[FeedEvent]:
    """The events of a feed: service and counterpart in the title, never a patient."""
    events = []
    for b in bookings:
        ref = reference(b.id)
        counterpart, where = label(b)
        lines = [f"Telehub booking {ref}", f"Service: {b.service_name}"]
        if b.video_link:
            lines.append(f"Join the video call: {b.video_link}")
        elif where:
            lines.append(f"Open the case: {where}")
        events.append(
            FeedEvent(
                uid=f"{b.id}@telehub",
                summary=f"{KIND_LABELS.get(b.service_kind, b.service_name)} · {counterpart}",
                description="\n".join(lines),
                start=b.start,
                end=b.end,
                zone=zone,
                cancelled=b.status == "cancelled",
                sequence=b.sequence,
                created=b.created_at,
                last_modified=b.updated_at,
                location=b.video_link,
                url=b.video_link or where,
            )
        )
    return events
