"""Idempotency-Key handling: a retried request gets the first answer, never a second effect.

Everything happens in the transaction that does the work. A transaction-scoped advisory
lock on (client, key) marks the request in flight: a concurrent retry cannot take it and
gets 409 at once. The answer is stored in the same transaction as the work, so either both
are committed or neither is (a crash leaves nothing half done, and the lock goes with the
connection).

Only a success is kept and replayed. A refusal (any problem: 409 slot taken, 422, 503) rolls
back with the work, so the key is kept for nothing and a retry with it simply runs again: a
clinic that was told "taken" may retry the same request once the time is free, and a 503 is
never replayed for a day. (The IETF httpapi Idempotency-Key draft replays errors too; for
bookings a replayed 409 would only make the client invent a new key for the same intent.)
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aiohttp import web
from pydantic import BaseModel

from telehub.auth import Caller
from telehub.db import connection, retrying
from telehub.errors import (
    PROBLEM_JSON,
    BadRequest,
    FieldError,
    IdempotencyInFlight,
    IdempotencyKeyReused,
)
from telehub.keys import POOL, SETTINGS
from telehub.validation import Input


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as it was first given: status and exact body text."""

    status: int
    body: str


def fingerprint(method: str, path: str, canonical_body: str) -> bytes:
    """What makes two requests 'the same request' for one key."""
    return hashlib.sha256(f"{method} {path}\n{canonical_body}".encode()).digest()


def _lock_id(owner: str, key: str) -> int:
    digest = hashlib.sha256(f"idempotency\n{owner}\n{key}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


async def run_once(
    conn: asyncpg.Connection,
    owner: str,
    key: str,
    print_: bytes,
    work: Callable[[asyncpg.Connection], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Do `work` in a transaction once per (owner, key); return (answer, replayed)."""
    async with conn.transaction():
        if not await conn.fetchval("SELECT pg_try_advisory_xact_lock($1)", _lock_id(owner, key)):
            raise IdempotencyInFlight("the first request with this key is still being processed")
        # A statement of its own, after the lock: its snapshot sees whatever the holder
        # before us committed.
        stored = await conn.fetchrow(
            """
            SELECT request_hash, response_status, response_body FROM idempotency_keys
            WHERE owner = $1 AND key = $2
            """,
            owner,
            key,
        )
        if stored is not None:
            if stored["request_hash"] != print_:
                raise IdempotencyKeyReused(
                    "this Idempotency-Key was used with a different request; use a new key"
                )
            return Answer(stored["response_status"], stored["response_body"]), True
        answer = await work(conn)
        await conn.execute(
            """
            INSERT INTO idempotency_keys (owner, key, request_hash, response_status,
                                          response_body)
            VALUES ($1, $2, $3, $4, $5)
            """,
            owner,
            key,
            print_,
            answer.status,
            answer.body,
        )
        return answer, False


IDEMPOTENCY_HEADER = "Idempotency-Key"


async def idempotent(
    request: web.Request,
    caller: Caller,
    data: Input,
    work: Callable[[asyncpg.Connection], Awaitable[BaseModel]],
    *,
    status: int,
    key_required: bool,
) -> web.Response:
    """Run `work` in one transaction, once per Idempotency-Key; replay the first answer."""
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None and key_required:
        raise BadRequest(
            f"an {IDEMPOTENCY_HEADER} header is required so retries cannot book twice",
            errors=[FieldError(IDEMPOTENCY_HEADER, "is required")],
        )
    if key is not None and not _KEY.match(key):
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters",
            errors=[FieldError(IDEMPOTENCY_HEADER, "must be 1-255 visible ASCII characters")],
        )

    async def answer(conn: asyncpg.Connection) -> Answer:
        return Answer(status, (await work(conn)).model_dump_json())

    settings = request.app[SETTINGS]

    async def attempt() -> tuple[Answer, bool]:
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            if key is None:
                async with conn.transaction():
                    return await answer(conn), False
            print_ = fingerprint(request.method, request.path, data.model_dump_json())
            return await run_once(conn, caller.client_id, key, print_, answer)

    # A deadlock or serialization failure aborts the whole transaction, key included:
    # the whole of it runs again, a few times, before the client gets a 503.
    result, replayed = await retrying(attempt)
    kind = "application/json" if result.status < 400 else PROBLEM_JSON
    response = web.Response(text=result.body, status=result.status, content_type=kind)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # also the OpenAPI document's pattern for the header
_KEY = re.compile(KEY_PATTERN)
