"""Calendar feeds: secret URLs, the window they cover, and the events they show.

A feed token is 256 random bits, found by its hash; rotating it revokes the old one at once.
A copy sealed with the app's key (`telehub.sealing`, bound to its owner) lets the owner see
the current URL again; tokens issued before that was kept can only be rotated.

A feed never carries patient data: its events are built from the
booking's service, time, clinic or consultant name, reference and video link only, and for
a session of a course its place in it ("Counseling · session 3 of 12": N is the course's last
session still on, so a course cut short counts to where it now ends).

A group's occurrence is one event (its UID the occurrence's): in the counselor's feed with
the seats taken ("MOUD support group · 6 of 10 seats"), in a clinic's feed with the number of
its own patients in it ("MOUD support group · 2 of your patients"), never who they are.
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
from telehub import sealing
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


SEALED_FOR = b"telehub feed token v1"


def _bound_to(owner: FeedOwner) -> bytes:
    return f"telehub-feed-v1:{owner.consultant_id}:{owner.spoke_id}".encode()


@dataclass(frozen=True, slots=True)
class CurrentFeed:
    """The owner's current feed URL: since when, and its token when it can be shown again."""

    issued_at: datetime
    token: str | None


async def issue_token(
    conn: asyncpg.Connection, owner: FeedOwner, *, secret_key: str | None = None
) -> str:
    """A new secret feed token for the owner; the previous one stops working now.

    With the app's `secret_key` a sealed copy is kept, so the owner can see the URL again.
    """
    token = secrets.token_urlsafe(32)
    sealed = sealing.seal(secret_key, SEALED_FOR, _bound_to(owner), token) if secret_key else None
    await feed_store.replace_token(conn, owner, hash_secret(token), sealed)
    return token


async def current(
    conn: asyncpg.Connection, owner: FeedOwner, secret_key: str
) -> CurrentFeed | None:
    """The owner's current feed (None: there is none); its token if a sealed copy is kept."""
    active = await feed_store.active_token(conn, owner)
    if active is None:
        return None
    if active.token_sealed is None:
        return CurrentFeed(active.created_at, None)
    token = sealing.unseal(secret_key, SEALED_FOR, _bound_to(owner), active.token_sealed)
    return CurrentFeed(active.created_at, token)


async def revoke(conn: asyncpg.Connection, owner: FeedOwner) -> bool:
    """Stop the owner's feed URL now; False if there was none."""
    return await feed_store.revoke_token(conn, owner)


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


def title(b: FeedBooking) -> str:
    """What the event is: its kind, or for a course's session its service and place in it."""
    if b.series_position is None:
        return KIND_LABELS.get(b.service_kind, b.service_name)
    length = max(b.series_length or 0, b.series_position)
    return f"{b.service_name} · session {b.series_position} of {length}"


def group_summary(b: FeedBooking) -> str:
    """A group occurrence's title: seats taken for the counselor, the clinic's own count."""
    if b.own_patients is not None:
        return f"{b.group_title} · {b.own_patients} of your patients"
    return f"{b.group_title} · {b.seats_taken} of {b.capacity} seats"


def _group_event(b: FeedBooking, zone: str) -> FeedEvent:
    lines = ["Telehub group session", f"Service: {b.service_name}"]
    if b.video_link:
        lines.append(f"Join the video call: {b.video_link}")
    return FeedEvent(
        uid=f"{b.id}@telehub",
        summary=group_summary(b),
        description="\n".join(lines),
        start=b.start,
        end=b.end,
        zone=zone,
        cancelled=b.status == "cancelled",
        sequence=b.sequence,
        created=b.created_at,
        last_modified=b.updated_at,
        location=b.video_link,
        url=b.video_link,
    )


def feed_events(bookings: list[FeedBooking], *, zone: str, label: Labeler) -> list[FeedEvent]:
    """The events of a feed: service and counterpart in the title, never a patient."""
    events = []
    for b in bookings:
        if b.group_title is not None:
            events.append(_group_event(b, zone))
            continue
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
                summary=f"{title(b)} · {counterpart}",
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
