"""SQL for calendar-feed tokens and the bookings a feed shows."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg


@dataclass(frozen=True, slots=True)
class FeedOwner:
    """Whose feed: one consultant's or one clinic's."""

    consultant_id: int | None = None
    spoke_id: int | None = None


@dataclass(frozen=True, slots=True)
class FeedBooking:
    """The booking facts a feed may show."""

    id: uuid.UUID
    service_kind: str
    service_name: str
    consultant_id: int
    spoke_id: int
    start: datetime
    end: datetime
    status: str
    sequence: int
    video_link: str | None
    created_at: datetime
    updated_at: datetime
    series_position: int | None = None  # its place in a course of sessions, 1-based
    series_length: int | None = None  # the course's last session still on (else its count)
    # A group's occurrence (its id is the occurrence's; spoke_id 0): the group's title, seats
    # taken of capacity, and in a clinic's feed how many of its own patients hold a seat.
    group_title: str | None = None
    seats_taken: int | None = None
    capacity: int | None = None
    own_patients: int | None = None


@dataclass(frozen=True, slots=True)
class ActiveToken:
    """An owner's current feed token: when it was issued, and its sealed copy if one is kept."""

    created_at: datetime
    token_sealed: bytes | None


async def replace_token(
    conn: asyncpg.Connection, owner: FeedOwner, token_hash: bytes, token_sealed: bytes | None
) -> None:
    """Revoke the owner's current token (if any) and store a new one's hash (and sealed copy)."""
    await _revoke(conn, owner)
    await conn.execute(
        """
        INSERT INTO feed_tokens (consultant_id, spoke_id, token_hash, token_sealed)
        VALUES ($1, $2, $3, $4)
        """,
        owner.consultant_id,
        owner.spoke_id,
        token_hash,
        token_sealed,
    )


async def _revoke(conn: asyncpg.Connection, owner: FeedOwner) -> bool:
    done = await conn.execute(
        """
        UPDATE feed_tokens SET revoked_at = now()
        WHERE revoked_at IS NULL
          AND consultant_id IS NOT DISTINCT FROM $1 AND spoke_id IS NOT DISTINCT FROM $2
        """,
        owner.consultant_id,
        owner.spoke_id,
    )
    return done != "UPDATE 0"


async def revoke_token(conn: asyncpg.Connection, owner: FeedOwner) -> bool:
    """Revoke the owner's token; False if there was none."""
    return await _revoke(conn, owner)


async def active_token(conn: asyncpg.Connection, owner: FeedOwner) -> ActiveToken | None:
    """The owner's current token, or None."""
    row = await conn.fetchrow(
        """
        SELECT created_at, token_sealed FROM feed_tokens
        WHERE revoked_at IS NULL
          AND consultant_id IS NOT DISTINCT FROM $1 AND spoke_id IS NOT DISTINCT FROM $2
        """,
        owner.consultant_id,
        owner.spoke_id,
    )
    if row is None:
        return None
    sealed = row["token_sealed"]
    return ActiveToken(row["created_at"], bytes(sealed) if sealed is not None else None)


async def active_token_since(conn: asyncpg.Connection, owner: FeedOwner) -> datetime | None:
    """When the owner's current token was issued, or None."""
    active = await active_token(conn, owner)
    return active.created_at if active else None


async def owner_of(conn: asyncpg.Connection, token_hash: bytes) -> tuple[FeedOwner, bytes] | None:
    """The owner of an active token with this hash, and the stored hash."""
    row = await conn.fetchrow(
        """
        SELECT consultant_id, spoke_id, token_hash FROM feed_tokens
        WHERE token_hash = $1 AND revoked_at IS NULL
        """,
        token_hash,
    )
    if row is None:
        return None
    return FeedOwner(row["consultant_id"], row["spoke_id"]), bytes(row["token_hash"])


_WHERE = """
    WHERE ($1::bigint IS NULL OR b.consultant_id = $1)
      AND ($2::bigint IS NULL OR b.spoke_id = $2)
      AND upper(b.period) > $3 AND lower(b.period) < $4
"""


# A session's course length ("session 3 of N"): its last session still on, else its count. It
# is in the fingerprint too: cutting a course short renames its earlier sessions' events,
# though only the later ones (perhaps past the window) changed.
_SERIES_LENGTH = """
    CASE WHEN b.series_id IS NOT NULL THEN coalesce(
        (SELECT max(o.series_position) FROM bookings o
         WHERE o.series_id = b.series_id AND o.status <> 'cancelled'),
        (SELECT c.count FROM series c WHERE c.id = b.series_id))
    END
"""


# A group's occurrences in a feed: a consultant's feed has every occurrence of their groups; a
# clinic's has those where its patients hold seats (a cancelled one, where they held seats, so
# that it shows cancelled), with the number of them: never who they are.
_OCCURRENCES = """
    SELECT o.id, s.kind AS service_kind, s.name AS service_name, o.consultant_id,
           0 AS spoke_id, lower(o.period) AS start, upper(o.period) AS "end", o.status,
           (o.status = 'cancelled')::int AS sequence, o.video_link, g.created_at,
           coalesce(o.cancelled_at, g.created_at) AS updated_at, g.title AS group_title,
           (SELECT count(*) FROM group_seats t
            WHERE t.occurrence_id = o.id AND t.attendance <> 'released')::int AS seats_taken,
           o.capacity,
           CASE WHEN $2::bigint IS NOT NULL THEN
               (SELECT count(*) FROM group_seats t
                WHERE t.occurrence_id = o.id AND t.spoke_id = $2
                  AND (t.attendance <> 'released' OR o.status = 'cancelled'))::int
           END AS own_patients
    FROM group_occurrences o
    JOIN groups g ON g.id = o.group_id
    JOIN services s ON s.id = g.service_id
    WHERE ($1::bigint IS NULL OR o.consultant_id = $1)
      AND ($2::bigint IS NULL OR EXISTS (
              SELECT 1 FROM group_seats t
              WHERE t.occurrence_id = o.id AND t.spoke_id = $2
                AND (t.attendance <> 'released' OR o.status = 'cancelled')))
      AND upper(o.period) > $3 AND lower(o.period) < $4
"""


async def feed_occurrences(
    conn: asyncpg.Connection, owner: FeedOwner, start: datetime, end: datetime
) -> list[FeedBooking]:
    """The group occurrences of the owner's feed overlapping the window, cancelled included."""
    rows = await conn.fetch(
        f"{_OCCURRENCES} ORDER BY lower(o.period), o.id",
        owner.consultant_id,
        owner.spoke_id,
        start,
        end,
    )
    return [FeedBooking(**dict(r)) for r in rows]


async def _occurrences_version(
    conn: asyncpg.Connection, owner: FeedOwner, start: datetime, end: datetime
) -> tuple[str, datetime | None]:
    row = await conn.fetchrow(
        f"""
        SELECT md5(coalesce(string_agg(q.id::text || ':' || q.status || ':' || q.seats_taken
                                       || ':' || coalesce(q.own_patients, -1),
                                       ',' ORDER BY q.id), '')) AS fingerprint,
               max(q.updated_at) AS last_modified
        FROM ({_OCCURRENCES}) q
        """,
        owner.consultant_id,
        owner.spoke_id,
        start,
        end,
    )
    assert row is not None
    return str(row["fingerprint"]), row["last_modified"]


async def feed_version(
    conn: asyncpg.Connection, owner: FeedOwner, start: datetime, end: datetime
) -> tuple[str, datetime | None]:
    """A fingerprint of every booking and group occurrence in the feed, and the latest change:
    no rendering."""
    booked, booked_at = await _bookings_version(conn, owner, start, end)
    held, held_at = await _occurrences_version(conn, owner, start, end)
    changes = [t for t in (booked_at, held_at) if t is not None]
    return f"{booked}|{held}", max(changes) if changes else None


async def _bookings_version(
    conn: asyncpg.Connection, owner: FeedOwner, start: datetime, end: datetime
) -> tuple[str, datetime | None]:
    row = await conn.fetchrow(
        f"""
        SELECT md5(coalesce(string_agg(b.id::text || ':' || b.sequence || ':' || b.updated_at
                                       || coalesce(':' || {_SERIES_LENGTH}, ''),
                                       ',' ORDER BY b.id), '')) AS fingerprint,
               max(b.updated_at) AS last_modified
        FROM bookings b {_WHERE}
        """,
        owner.consultant_id,
        owner.spoke_id,
        start,
        end,
    )
    assert row is not None
    return str(row["fingerprint"]), row["last_modified"]


async def feed_bookings(
    conn: asyncpg.Connection, owner: FeedOwner, start: datetime, end: datetime
) -> list[FeedBooking]:
    """The owner's bookings overlapping the window, cancelled ones included, and the group
    occurrences of the feed (feed_occurrences), by start."""
    rows = await conn.fetch(
        f"""
        SELECT b.id, s.kind AS service_kind, s.name AS service_name, b.consultant_id,
               b.spoke_id, lower(b.period) AS start, upper(b.period) AS "end", b.status,
               b.sequence, b.video_link, b.created_at, b.updated_at, b.series_position,
               {_SERIES_LENGTH} AS series_length
        FROM bookings b JOIN services s ON s.id = b.service_id
        {_WHERE}
        ORDER BY lower(b.period), b.id
        """,
        owner.consultant_id,
        owner.spoke_id,
        start,
        end,
    )
    booked = [FeedBooking(**dict(r)) for r in rows]
    held = await feed_occurrences(conn, owner, start, end)
    return sorted(booked + held, key=lambda b: (b.start, str(b.id)))
