"""Idempotency-Key handling: a retried request gets the first answer, never a second effect.

The key is claimed in its own committed statement (so a concurrent retry sees it and gets
409 at once), and the answer is saved in the same transaction as the work, so a crash can
never leave work done without its stored answer.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg

from telehub.errors import IdempotencyInFlight, IdempotencyKeyReused

# A claim older than this belongs to a process that died mid-request: it may be taken over.
STALE_AFTER_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Answer:
    """A response as it was first given: status and exact body text."""

    status: int
    body: str


def fingerprint(method: str, path: str, canonical_body: str) -> bytes:
    """What makes two requests 'the same request' for one key."""
    return hashlib.sha256(f"{method} {path}\n{canonical_body}".encode()).digest()


async def _claim(conn: asyncpg.Connection, owner: str, key: str, print_: bytes) -> Answer | None:
    claimed = await conn.fetchval(
        """
        INSERT INTO idempotency_keys (owner, key, request_hash, state)
        VALUES ($1, $2, $3, 'in_flight')
        ON CONFLICT (owner, key) DO UPDATE SET locked_at = now()
            WHERE idempotency_keys.state = 'in_flight'
              AND idempotency_keys.request_hash = excluded.request_hash
              AND idempotency_keys.locked_at < now() - make_interval(secs => $4)
        RETURNING true
        """,
        owner,
        key,
        print_,
        STALE_AFTER_SECONDS,
    )
    if claimed:
        return None
    row = await conn.fetchrow(
        """
        SELECT request_hash, state, response_status, response_body
        FROM idempotency_keys WHERE owner = $1 AND key = $2
        """,
        owner,
        key,
    )
    if row is None:  # released between the two statements: try once more
        return await _claim(conn, owner, key, print_)
    if row["request_hash"] != print_:
        raise IdempotencyKeyReused(
            "this Idempotency-Key was used with a different request; use a new key"
        )
    if row["state"] == "in_flight":
        raise IdempotencyInFlight("the first request with this key is still being processed")
    return Answer(row["response_status"], row["response_body"])


async def _save(conn: asyncpg.Connection, owner: str, key: str, answer: Answer) -> None:
    await conn.execute(
        """
        UPDATE idempotency_keys SET state = 'done', response_status = $3, response_body = $4
        WHERE owner = $1 AND key = $2
        """,
        owner,
        key,
        answer.status,
        answer.body,
    )


async def run_once(
    conn: asyncpg.Connection,
    owner: str,
    key: str,
    print_: bytes,
    work: Callable[[asyncpg.Connection], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Do `work` in a transaction once per (owner, key); return (answer, replayed).

    Only success is kept. A refusal (409 taken, 422 not a slot, ...) rolled everything back,
    so there is no effect to protect: the key is released and a retry simply runs again
    (a clinic that fixes the cause, say by adding the patient, can retry as it was).
    """
    stored = await _claim(conn, owner, key, print_)
    if stored is not None:
        return stored, True
    try:
        async with conn.transaction():
            answer = await work(conn)
            await _save(conn, owner, key, answer)
    except BaseException:
        await _release(conn, owner, key)
        raise
    return answer, False


async def _release(conn: asyncpg.Connection, owner: str, key: str) -> None:
    if not conn.is_closed():
        await conn.execute(
            "DELETE FROM idempotency_keys WHERE owner = $1 AND key = $2 AND state = 'in_flight'",
            owner,
            key,
        )


async def forget_expired(conn: asyncpg.Connection, hours: int = 24) -> int:
    """Drop keys older than `hours`; return how many."""
    done = await conn.execute(
        "DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(hours => $1)", hours
    )
    return int(done.split()[-1])


def canonical(value: object) -> str:
    """A stable text form of parsed request data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
