"""SQL for the outbox: events waiting to reach a spoke's webhook."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import asyncpg

# held: a note waiting for the patient's consent (consults.disclosure): kept, never sent.
DeliveryState = Literal["pending", "delivered", "failed", "held"]
# Notified at commit when an event becomes due now (migration 012's trigger, or wake_workers).
CHANNEL = "outbox_due"

_COLUMNS = """
    id, webhook_id, spoke_id, event_type, payload, created_at, attempts, next_attempt_at,
    delivered_at, failed_at, last_status, last_error, note_id, consent_id, held_at, held_reason
"""


@dataclass(frozen=True, slots=True)
class Delivery:
    """One event on its way to a spoke."""

    id: int
    webhook_id: str
    spoke_id: int
    event_type: str
    payload: dict[str, Any]
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    delivered_at: datetime | None
    failed_at: datetime | None
    last_status: int | None
    last_error: str | None
    # A note's event: the note, the consent it goes under, or held with what is missing.
    note_id: uuid.UUID | None = None
    consent_id: uuid.UUID | None = None
    held_at: datetime | None = None
    held_reason: str | None = None

    @property
    def state(self) -> DeliveryState:
        """Where the delivery stands."""
        if self.delivered_at is not None:
            return "delivered"
        if self.held_at is not None:
            return "held"
        return "failed" if self.failed_at is not None else "pending"


async def enqueue(
    conn: asyncpg.Connection, *, spoke_id: int, event_type: str, payload: dict[str, Any]
) -> str:
    """Add an event for a spoke, in the caller's transaction; return its webhook-id."""
    webhook_id = "msg_" + uuid.uuid4().hex
    await conn.execute(
        """
        INSERT INTO outbox (webhook_id, spoke_id, event_type, payload)
        VALUES ($1, $2, $3, $4)
        """,
        webhook_id,
        spoke_id,
        event_type,
        payload,
    )
    return webhook_id


# Why a consent (`c`) no longer lets its events go, in words.
LAPSED_REASON = """
    CASE WHEN c.revoked_on IS NOT NULL
             THEN 'consent revoked on ' || to_char(c.revoked_on, 'YYYY-MM-DD')
         WHEN c.expires_on IS NOT NULL
             THEN 'consent expired after ' || to_char(c.expires_on, 'YYYY-MM-DD')
         ELSE 'consent not in force' END
"""


async def claim_due(
    conn: asyncpg.Connection, spoke_ids: Sequence[int], *, lease_seconds: float, limit: int
) -> list[Delivery]:
    """Lease due events of these spokes: no other process takes them until the lease ends.

    The lease is written and committed at once, so no lock is held during the HTTP call;
    a process that dies mid-delivery leaves the lease to run out and the event is retried.

    A held event is never leased, nor one whose consent is no longer in force now (revoked
    or expired since it was queued, a retry too): the same statement holds it, with the
    reason, so nothing is leased after a revocation commits (consults.disclosure).
    """
    rows = await conn.fetch(
        f"""
        WITH due AS (
            SELECT id, consent_id,
                   consent_id IS NULL OR consent_in_force(consent_id, now()) AS in_force
            FROM outbox
            WHERE delivered_at IS NULL AND failed_at IS NULL AND held_at IS NULL
              AND next_attempt_at <= now()
              AND spoke_id = ANY ($1::bigint[])
            ORDER BY next_attempt_at, id
            LIMIT $3
            FOR UPDATE SKIP LOCKED
        ), lapsed AS (
            UPDATE outbox o SET held_at = now(), held_reason = {LAPSED_REASON}
            FROM due JOIN consents c ON c.id = due.consent_id
            WHERE o.id = due.id AND NOT due.in_force
            RETURNING o.id
        )
        UPDATE outbox o
        SET attempts = o.attempts + 1, next_attempt_at = now() + make_interval(secs => $2),
            leased_until = now() + make_interval(secs => $2)
        FROM due WHERE o.id = due.id AND due.in_force
        RETURNING {", ".join("o." + c.strip() for c in _COLUMNS.split(","))}
        """,
        list(spoke_ids),
        lease_seconds,
        limit,
    )
    return [Delivery(**dict(r)) for r in rows]


async def mark_delivered(conn: asyncpg.Connection, delivery_id: int, status: int) -> int:
    """The spoke accepted the event: its endpoint answers again, so the spoke's other pending
    events waiting out a backoff are due now (in the same statement). Returns how many.

    A note's event is a disclosure: the same statement writes its one row of the accounting
    (channel webhook, by webhook:<webhook-id>, under the consent it was leased under). An
    event already marked delivered changes nothing and is not accounted again.

    Events being sent (leased) and events kept as failed after the retry window stay as
    they are; the failed ones go again only by hand.
    """
    released = await conn.fetchval(
        """
        WITH delivered AS (
            UPDATE outbox SET delivered_at = now(), last_status = $2, last_error = NULL,
                leased_until = NULL
            WHERE id = $1 AND delivered_at IS NULL
            RETURNING spoke_id, webhook_id, note_id, consent_id
        ), disclosed AS (
            INSERT INTO disclosures (note_id, note_version, patient_id, spoke_id,
                recipient_spoke_id, channel, consent_id, disclosed_by)
            SELECT n.id, n.version, n.patient_id, n.spoke_id, d.spoke_id, 'webhook',
                   d.consent_id, 'webhook:' || d.webhook_id
            FROM delivered d JOIN consult_notes n ON n.id = d.note_id
            WHERE d.consent_id IS NOT NULL
            RETURNING id
        ), released AS (
            UPDATE outbox o SET next_attempt_at = now()
            FROM delivered
            WHERE o.spoke_id = delivered.spoke_id AND o.id <> $1
              AND o.delivered_at IS NULL AND o.failed_at IS NULL AND o.held_at IS NULL
              AND o.next_attempt_at > now()
              AND (o.leased_until IS NULL OR o.leased_until <= now())
            RETURNING o.id
        )
        SELECT count(*) FROM released
        """,
        delivery_id,
        status,
    )
    return int(released)


async def mark_failed_attempt(
    conn: asyncpg.Connection,
    delivery_id: int,
    *,
    status: int | None,
    error: str,
    retry_in_seconds: float,
    give_up_after_days: float,
) -> None:
    """Schedule the next attempt, or give up (keeping the event) once the retry window ends."""
    await conn.execute(
        """
        UPDATE outbox SET
            last_status = $2, last_error = $3, leased_until = NULL,
            next_attempt_at = now() + make_interval(secs => $4),
            failed_at = CASE WHEN created_at + make_interval(secs => $5) < now()
                             THEN now() END
        WHERE id = $1
        """,
        delivery_id,
        status,
        error[:500],
        retry_in_seconds,
        give_up_after_days * 86400,
    )


# Deliveries in a state ($1, NULL for any) of a spoke ($2, NULL for any).
_FILTER = """
    ($1::text IS NULL
     OR ($1 = 'delivered' AND o.delivered_at IS NOT NULL)
     OR ($1 = 'failed' AND o.failed_at IS NOT NULL)
     OR ($1 = 'held' AND o.held_at IS NOT NULL)
     OR ($1 = 'pending' AND o.delivered_at IS NULL AND o.failed_at IS NULL
         AND o.held_at IS NULL))
    AND ($2::bigint IS NULL OR o.spoke_id = $2)
"""
_O_COLUMNS = ", ".join("o." + c.strip() for c in _COLUMNS.split(","))


async def list_deliveries(
    conn: asyncpg.Connection, *, state: DeliveryState | None, spoke_id: int | None, limit: int
) -> list[Delivery]:
    """Deliveries, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_O_COLUMNS} FROM outbox o
        WHERE {_FILTER}
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT $3
        """,
        state,
        spoke_id,
        limit,
    )
    return [Delivery(**dict(r)) for r in rows]


# Where a clinic's events go: its webhook, nowhere for now (its webhook was stopped after
# failing), or nowhere at all (it has none and reads its notes in its inbox).
Route = Literal["webhook", "stopped", "inbox"]
_ROUTE = """
    s.name AS spoke_name,
    CASE WHEN s.webhook_url IS NULL THEN 'inbox'
         WHEN s.webhook_disabled_at IS NOT NULL THEN 'stopped'
         ELSE 'webhook' END AS route
"""


@dataclass(frozen=True, slots=True)
class Routed:
    """A delivery with where its clinic's events go now, as the coordinator's pages show it."""

    delivery: Delivery
    spoke_name: str
    route: Route

    @property
    def retryable(self) -> bool:
        """Whether sending it again by hand can work: undelivered, not waiting for a consent,
        and a webhook to send to."""
        return self.delivery.state in ("pending", "failed") and self.route == "webhook"


def _routed(row: asyncpg.Record) -> Routed:
    values = dict(row)
    name, route = values.pop("spoke_name"), values.pop("route")
    return Routed(Delivery(**values), name, route)


async def list_routed(
    conn: asyncpg.Connection, *, state: DeliveryState | None, spoke_id: int | None, limit: int
) -> list[Routed]:
    """Deliveries, newest first, each with where its clinic's events go now."""
    rows = await conn.fetch(
        f"""
        SELECT {_O_COLUMNS}, {_ROUTE}
        FROM outbox o JOIN spokes s ON s.id = o.spoke_id
        WHERE {_FILTER}
        ORDER BY o.created_at DESC, o.id DESC
        LIMIT $3
        """,
        state,
        spoke_id,
        limit,
    )
    return [_routed(r) for r in rows]


async def get_routed(conn: asyncpg.Connection, delivery_id: int) -> Routed | None:
    """One delivery, with where its clinic's events go now."""
    row = await conn.fetchrow(
        f"""
        SELECT {_O_COLUMNS}, {_ROUTE}
        FROM outbox o JOIN spokes s ON s.id = o.spoke_id
        WHERE o.id = $1
        """,
        delivery_id,
    )
    return _routed(row) if row else None


async def get_delivery(conn: asyncpg.Connection, delivery_id: int) -> Delivery | None:
    """One delivery."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM outbox WHERE id = $1", delivery_id)
    return Delivery(**dict(row)) if row else None


async def retry_now(conn: asyncpg.Connection, delivery_id: int) -> Delivery | None:
    """Put an undelivered event back in line at once: one more attempt, by hand.

    None when it is delivered, held for a consent (only a consent releases it), or a worker
    holds it right now (it is being sent).
    """
    row = await conn.fetchrow(
        f"""
        UPDATE outbox SET failed_at = NULL, next_attempt_at = now()
        WHERE id = $1 AND delivered_at IS NULL AND held_at IS NULL
          AND (leased_until IS NULL OR leased_until <= now())
        RETURNING {_COLUMNS}
        """,
        delivery_id,
    )
    return Delivery(**dict(row)) if row else None


async def release_held(conn: asyncpg.Connection, spoke_id: int) -> int:
    """Events held back while a spoke's endpoint was disabled may go at once (not those held
    for a consent: only a consent releases them, consults.disclosure.release_held)."""
    done = await conn.execute(
        """
        UPDATE outbox SET next_attempt_at = now()
        WHERE spoke_id = $1 AND delivered_at IS NULL AND failed_at IS NULL AND held_at IS NULL
          AND (leased_until IS NULL OR leased_until <= now())
        """,
        spoke_id,
    )
    return int(done.split()[-1])


async def wake_workers(conn: asyncpg.Connection) -> None:
    """Wake every process's worker when the caller's transaction commits (no-op on rollback).

    For what the outbox trigger cannot see: due events whose clinic just got an endpoint.
    """
    await conn.execute("SELECT pg_notify($1, '')", CHANNEL)
