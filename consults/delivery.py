"""How a signed note reaches its clinic: an outbox event, then a signed webhook POST.

Signing a note writes the event in the same transaction (`enqueue_note`). A worker in every
server process (`run_worker`) leases due events with SKIP LOCKED, POSTs each outside any
transaction with Standard Webhooks headers, and records the outcome. Failures back off
exponentially with jitter for days; a 410 Gone disables the endpoint; nothing is dropped.
The clinic can also always pull the same notes from its inbox (GET /api/v1/notes).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import random
import secrets
from datetime import UTC, datetime
from typing import Any

import aiohttp
import asyncpg
import structlog
from standardwebhooks.webhooks import Webhook as Signer

from consults import delivery_store
from consults.delivery_store import Delivery
from consults.note_store import Note
from consults.webhook_address import RefusedAddress, RefusedWebhookUrl, check_url
from spokes import store as spokes_store
from telehub.db import connection
from telehub.errors import FieldError, NotFound, ServiceUnavailable, ValidationFailed
from telehub.settings import Settings

log = structlog.get_logger(__name__)

CLAIM_BATCH = 10
WORKER_BACKOFF_MAX = 30.0  # seconds between tries while the database cannot be used
# Every query here runs in telehub.db.connection(), which turns a database that is down,
# overloaded, slow or in a write conflict into ServiceUnavailable (after its one warning
# line); anything else it lets through (UndefinedColumnError, a bad parameter) is a bug.
_rng = random.SystemRandom()


def new_webhook_secret() -> str:
    """A Standard Webhooks secret: `whsec_` and 32 random bytes in base64."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()


async def configure_webhook(
    conn: asyncpg.Connection,
    spoke_id: int,
    *,
    url: str | None,
    full_payload: bool,
    rotate: bool,
    allow_private: bool,
) -> tuple[spokes_store.Webhook, str | None]:
    """Set a clinic's endpoint; a secret is issued on first use or rotation (shown once).

    The URL must be https to a public address (loopback and http only with `allow_private`),
    else ValidationFailed naming `url` and nothing changes. Setting it again re-enables a
    disabled endpoint, and what waited behind it goes now.
    """
    if url is not None:
        try:
            check_url(url, allow_private=allow_private)
        except RefusedWebhookUrl as refused:
            raise ValidationFailed(
                f"webhook URL {refused}", errors=[FieldError("url", str(refused))]
            ) from None
    current = await spokes_store.get_webhook(conn, spoke_id)
    if current is None:
        raise NotFound("no such spoke")
    secret = new_webhook_secret() if rotate or not current.secret else None
    saved = await spokes_store.set_webhook(
        conn, spoke_id, url=url, secret=secret, full_payload=full_payload
    )
    if current.disabled_at is not None:
        await delivery_store.release_held(conn, spoke_id)
    return saved, secret


def note_event(note: Note, *, base_url: str, full: bool) -> dict[str, Any]:
    """The event for a signed note: identifiers and links, plus the note on the spoke's opt-in."""
    data: dict[str, Any] = {
        "note_id": str(note.id),
        "version": note.version,
        "spoke_id": note.spoke_id,
        "patient_id": str(note.patient_id),
        "econsult_id": str(note.econsult_id) if note.econsult_id else None,
        "booking_id": str(note.booking_id) if note.booking_id else None,
        "signed_at": _utc(note.signed_at),
        "links": {
            "note": f"{base_url}/api/v1/notes/{note.id}",
            "acknowledge": f"{base_url}/api/v1/notes/{note.id}/acknowledge",
        },
    }
    if full:
        data["note"] = {"consultant_id": note.consultant_id, "sections": note.sections}
    return {
        "type": "note.signed" if note.version == 1 else "note.amended",
        "timestamp": _utc(note.signed_at),
        "data": data,
    }


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


async def enqueue_note(conn: asyncpg.Connection, note: Note, *, base_url: str) -> str:
    """Queue a signed note for its clinic, in the signing transaction."""
    webhook = await spokes_store.get_webhook(conn, note.spoke_id)
    event = note_event(note, base_url=base_url, full=bool(webhook and webhook.full_payload))
    return await delivery_store.enqueue(
        conn, spoke_id=note.spoke_id, event_type=event["type"], payload=event
    )


def signed_headers(secret: str, webhook_id: str, body: str, now: datetime) -> dict[str, str]:
    """Standard Webhooks headers for one attempt (the timestamp is the attempt's)."""
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": Signer(secret).sign(webhook_id, now, body),
        "content-type": "application/json",
        "user-agent": "telehub-webhooks/1",
    }


def backoff_seconds(attempts: int, settings: Settings) -> float:
    """Exponential backoff with jitter: base * 2^(n-1), capped, then 50-100 % of it."""
    delay = min(
        settings.webhook_backoff_base * 2 ** min(attempts - 1, 30), settings.webhook_backoff_max
    )
    return float(delay * _rng.uniform(0.5, 1.0))


async def _post(
    session: aiohttp.ClientSession,
    url: str,
    headers: dict[str, str],
    body: str,
    seconds: float,
) -> int:
    async with session.post(
        url,
        data=body.encode(),
        headers=headers,
        timeout=aiohttp.ClientTimeout(total=seconds),
        allow_redirects=False,
    ) as response:
        await response.content.read(4096)  # drain a little; the body does not matter
        return response.status


async def _attempt(
    pool: asyncpg.Pool,
    session: aiohttp.ClientSession,
    settings: Settings,
    delivery: Delivery,
    webhook: spokes_store.Webhook,
) -> None:
    assert webhook.url is not None and webhook.secret is not None
    body = json.dumps(delivery.payload, separators=(",", ":"))
    headers = signed_headers(webhook.secret, delivery.webhook_id, body, datetime.now(UTC))
    status: int | None = None
    try:
        # Again at each attempt: the URL may predate the rule, or the setting may have changed.
        # The connector checks every address it resolves or connects to (consults.webhook_address).
        check_url(webhook.url, allow_private=settings.webhook_allow_private)
        status = await _post(session, webhook.url, headers, body, settings.webhook_timeout)
        error = f"HTTP {status}"  # a 3xx too: redirects are not followed
    except RefusedWebhookUrl as refused:
        error = f"refused: webhook URL {refused}"
    except aiohttp.ClientConnectorError as exc:
        # The connector refused the address the name resolved to (RefusedAddress), or the
        # connection failed.
        reason = exc.os_error
        error = (
            f"refused: {reason.strerror}"
            if isinstance(reason, RefusedAddress)
            else f"{type(exc).__name__}: {exc}"
        )
    except TimeoutError:
        error = f"no answer within {settings.webhook_timeout:g} s"
    except aiohttp.ClientError as exc:
        error = f"{type(exc).__name__}: {exc}"
    async with connection(pool, settings.db_acquire_timeout) as conn:
        if status is not None and 200 <= status < 300:
            released = await delivery_store.mark_delivered(conn, delivery.id, status)
            log.info(
                "webhook.delivered",
                delivery=delivery.id,
                spoke_id=delivery.spoke_id,
                attempts=delivery.attempts,
                status=status,
                released=released,
            )
            return
        async with conn.transaction():
            if status == 410:
                await spokes_store.disable_webhook(conn, delivery.spoke_id, "410 Gone")
            await delivery_store.mark_failed_attempt(
                conn,
                delivery.id,
                status=status,
                error=error,
                retry_in_seconds=backoff_seconds(delivery.attempts, settings),
                give_up_after_days=settings.webhook_retry_days,
            )
    log.warning(
        "webhook.failed",
        delivery=delivery.id,
        spoke_id=delivery.spoke_id,
        attempts=delivery.attempts,
        status=status,
        error=error,
    )


async def deliver_due(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, settings: Settings
) -> int:
    """Lease and attempt one batch of due events; return how many were attempted."""
    async with connection(pool, settings.db_acquire_timeout) as conn:
        webhooks = await spokes_store.active_webhooks(conn)
        if not webhooks:
            return 0
        batch = await delivery_store.claim_due(
            conn, list(webhooks), lease_seconds=settings.webhook_lease, limit=CLAIM_BATCH
        )
    outcomes = await asyncio.gather(
        *(_attempt(pool, session, settings, d, webhooks[d.spoke_id]) for d in batch),
        return_exceptions=True,
    )
    for delivery, outcome in zip(batch, outcomes, strict=True):
        if isinstance(outcome, ServiceUnavailable):
            # Sent or not, the outcome was not written: the lease runs out and it goes again
            # (under the same webhook-id, which receivers deduplicate on).
            log.info(
                "webhook.outcome_not_recorded",
                delivery=delivery.id,
                spoke_id=delivery.spoke_id,
                error=_describe(outcome),
            )
        elif isinstance(outcome, BaseException):
            raise outcome
    return len(batch)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:300]


async def run_worker(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, settings: Settings, wake: asyncio.Event
) -> None:
    """Deliver forever: a batch at a time, sleeping until woken or the poll interval passes.

    While the database cannot be used (down, pool exhausted, statement timeout: telehub.db's
    ServiceUnavailable) it waits longer each time (up to WORKER_BACKOFF_MAX) and goes on,
    with one line per failure (telehub.db's warning, then its own) and no traceback. Any other
    error is a bug (a query naming a missing column): `webhook.worker_crashed` with its
    traceback, once per occurrence, then the same growing wait, and it goes on.
    """
    failures = 0
    while True:
        # Cleared before looking, so a wake-up that comes while we look is not lost.
        wake.clear()
        try:
            attempted = await deliver_due(pool, session, settings)
        except Exception as exc:
            failures += 1
            delay = min(settings.outbox_poll * 2 ** min(failures - 1, 16), WORKER_BACKOFF_MAX)
            fields = {"error": _describe(exc), "failures": failures, "retry_in": round(delay, 3)}
            if isinstance(exc, ServiceUnavailable):
                # telehub.db has already logged its one warning line.
                log.info("webhook.worker_waiting", **fields)
            else:  # a bug: say so loudly, then keep delivering what can be
                log.exception("webhook.worker_crashed", **fields)
            await asyncio.sleep(delay)
            continue
        failures = 0
        if attempted:
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(wake.wait(), settings.outbox_poll)
