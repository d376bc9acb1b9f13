"""How a signed note reaches its clinic: an outbox event, then a signed webhook POST.

Signing a note writes the event in the same transaction (consults.disclosure.gate: under the
patient's consent, or held until one covers it); a trigger on the outbox (migrations 012 and
021) notifies channel `outbox_due` in that transaction for a due event, so at commit every
process hears it. A worker in every server process (`run_worker`) LISTENs on a connection of
its own, leases due events with SKIP LOCKED (never a held one, nor one whose consent is no
longer in force), POSTs each outside any transaction with Standard Webhooks headers, and
records the outcome (a note's delivery with its row of the accounting of disclosures);
`outbox_poll` is the safety net while it cannot listen. Failures back off exponentially with
jitter for days; a 410 Gone disables the endpoint; nothing is dropped. The clinic can also
always pull the same notes from its inbox (GET /api/v1/notes).
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

from consults import delivery_store, disclosure
from consults.delivery_store import Delivery
from consults.disclosure import note_event as note_event
from consults.webhook_address import RefusedAddress, RefusedWebhookUrl, check_url
from spokes import store as spokes_store
from telehub.db import connection
from telehub.errors import FieldError, NotFound, ServiceUnavailable, ValidationFailed
from telehub.settings import Settings
from telehub.tasks import stop

log = structlog.get_logger(__name__)

CLAIM_BATCH = 10
WORKER_BACKOFF_MAX = 30.0  # seconds between tries while the database cannot be used
LISTEN_CHECK = 30.0  # seconds between checks that the listening connection still answers
LISTENER_NAME = "telehub-outbox-listen"  # its application_name in pg_stat_activity
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
    elif saved.url is not None and current.url is None:
        # What waited for a first endpoint is due already: nothing in the outbox changes,
        # so the trigger is silent; wake the workers at commit here.
        await delivery_store.wake_workers(conn)
    return saved, secret


def _utc(value: datetime | None) -> str | None:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z") if value else None


async def enqueue_seat_assigned(
    conn: asyncpg.Connection, *, spoke_id: int, data: dict[str, Any], at: datetime
) -> str:
    """Queue `group.seat_assigned` for the clinic whose waiting patient got a freed seat, in the
    assigning transaction. `data` names that clinic's own patient only, never another."""
    kind = "group.seat_assigned"
    event = {"type": kind, "timestamp": _utc(at), "data": data}
    return await delivery_store.enqueue(conn, spoke_id=spoke_id, event_type=kind, payload=event)


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
        # Whatever a consent that lapsed since (expired in the clinic's zone) was to carry
        # goes under another covering consent now, or is held: never sent under it.
        await disclosure.withhold_lapsed(
            conn, list(webhooks), base_url=settings.base_url, now=datetime.now(UTC)
        )
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


async def listen_for_due(database_url: str, wake: asyncio.Event) -> None:
    """Set `wake` whenever an event becomes due anywhere, for as long as it runs.

    LISTENs on a connection of its own (a pool connection would be reset and reused). When
    that connection drops, or stops answering the periodic check, it reconnects, waiting
    longer each time (up to WORKER_BACKOFF_MAX) with one warning line per failure; meanwhile
    the worker's poll delivers. Each new connection wakes the worker once.
    """
    failures = 0
    while True:
        try:
            conn = await asyncpg.connect(
                database_url,
                timeout=LISTEN_CHECK,
                server_settings={"application_name": LISTENER_NAME},
            )
        except Exception as exc:
            failures += 1
            await _listen_lost(exc, failures)
            continue
        try:
            await conn.add_listener(delivery_store.CHANNEL, lambda *_: wake.set())
            log.info("webhook.listening", channel=delivery_store.CHANNEL)
            failures = 0
            wake.set()  # for whatever was enqueued while nobody listened
            error = await _until_lost(conn)
        except Exception as exc:
            error = exc
        finally:
            conn.terminate()
        failures += 1
        await _listen_lost(error, failures)


async def _until_lost(conn: asyncpg.Connection) -> BaseException:
    """Return once `conn` is closed or stops answering: why."""
    lost = asyncio.Event()
    conn.add_termination_listener(lambda _conn: lost.set())
    if conn.is_closed():
        lost.set()
    while not lost.is_set():
        # asyncio.timeout, not wait_for: on 3.11 wait_for can swallow a cancellation.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(LISTEN_CHECK):
                await lost.wait()
        if not lost.is_set():
            # A dead peer may never close the socket: ask, so that silence is noticed.
            await conn.fetchval("SELECT 1", timeout=LISTEN_CHECK)
    return ConnectionError("the listening connection was closed")


_LOST_CONNECTION = (
    OSError,
    TimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
)


async def _listen_lost(exc: BaseException, failures: int) -> None:
    delay = min(0.1 * 2 ** min(failures - 1, 16), WORKER_BACKOFF_MAX)
    fields = {"error": _describe(exc), "failures": failures, "retry_in": round(delay, 3)}
    if isinstance(exc, _LOST_CONNECTION):
        log.warning("webhook.listen_lost", **fields)
    else:  # a bug: say so with its traceback; the poll delivers meanwhile
        log.error("webhook.listen_crashed", exc_info=exc, **fields)
    await asyncio.sleep(delay)


async def run_worker(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, settings: Settings
) -> None:
    """Deliver forever: a batch at a time, sleeping until notified or the poll interval passes.

    A notification on `outbox_due` (see `listen_for_due`) wakes it at once in every process;
    `outbox_poll` is only the safety net.

    While the database cannot be used (down, pool exhausted, statement timeout: telehub.db's
    ServiceUnavailable) it waits longer each time (up to WORKER_BACKOFF_MAX) and goes on,
    with one line per failure (telehub.db's warning, then its own) and no traceback. Any other
    error is a bug (a query naming a missing column): `webhook.worker_crashed` with its
    traceback, once per occurrence, then the same growing wait, and it goes on.
    """
    wake = asyncio.Event()
    listener = asyncio.create_task(
        listen_for_due(settings.database_url, wake), name="webhook-listen"
    )
    try:
        await _deliver_forever(pool, session, settings, wake)
    finally:
        await stop(listener)


async def _deliver_forever(
    pool: asyncpg.Pool, session: aiohttp.ClientSession, settings: Settings, wake: asyncio.Event
) -> None:
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
            async with asyncio.timeout(settings.outbox_poll):
                await wake.wait()
