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
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
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


IN_FLIGHT = "TH409"  # the SQLSTATE idempotency_claim raises (migration 024)


@dataclass(frozen=True, slots=True)
class Claim:
    """A request's Idempotency-Key, claimed for the open transaction (its lock is held).

    A statement of the work that runs after the claim reads the kept answer with
    `idempotency_answer(owner, key)` and keeps a new one with `idempotency_keep(owner, key,
    request_hash, status, body)` (migration 024), so no round trip is spent on either.
    """

    owner: str
    key: str
    request_hash: bytes

    def replay(self, request_hash: bytes | None, status: int | None, body: str | None) -> Answer:
        """The kept answer (read after the claim), or IdempotencyKeyReused."""
        assert request_hash is not None and status is not None and body is not None
        if request_hash != self.request_hash:
            raise IdempotencyKeyReused(
                "this Idempotency-Key was used with a different request; use a new key"
            )
        return Answer(status, body)

    def claim_sql(self) -> str:
        """The claim as SQL text, its one value an integer made here."""
        return f"SELECT idempotency_claim({_lock_id(self.owner, self.key)})"


async def run_once(
    conn: asyncpg.Connection,
    owner: str,
    key: str,
    print_: bytes,
    work: Callable[[asyncpg.Connection], Awaitable[Answer]],
) -> tuple[Answer, bool]:
    """Do `work` in a transaction once per (owner, key); return (answer, replayed)."""
    claim = Claim(owner, key, print_)
    async with conn.transaction():
        await _claim(conn, claim.claim_sql())
        # A statement of its own, after the claim: its snapshot sees whatever the holder
        # before us committed.
        stored = await conn.fetchrow("SELECT * FROM idempotency_answer($1, $2)", owner, key)
        if stored is not None:
            return claim.replay(*stored.values()), True
        answer = await work(conn)
        await conn.execute(
            "SELECT idempotency_keep($1, $2, $3, $4, $5)",
            owner,
            key,
            print_,
            answer.status,
            answer.body,
        )
        return answer, False


async def _claim(conn: asyncpg.Connection, sql: str) -> None:
    try:
        await conn.execute(sql)
    except asyncpg.PostgresError as e:
        if e.sqlstate == IN_FLIGHT:
            raise IdempotencyInFlight(
                "the first request with this key is still being processed"
            ) from None
        raise


@asynccontextmanager
async def opened(conn: asyncpg.Connection, first: Sequence[str]) -> AsyncIterator[None]:
    """A transaction whose `BEGIN` carries its first statements in the same round trip
    (trusted SQL text: a claim, a lock); committed when the block ends, rolled back if it
    raises. The block must not open transactions of its own (asyncpg does not know of this
    one)."""
    try:
        await _claim(conn, "; ".join(["BEGIN", *first]))
    except BaseException:
        await _roll_back(conn)
        raise
    try:
        yield
    except BaseException:
        await _roll_back(conn)
        raise
    # PostgreSQL answers COMMIT of a transaction an error aborted with ROLLBACK, not an
    # error: a work that swallowed a database error must not answer as if it had written.
    if (done := await conn.execute("COMMIT")) != "COMMIT":
        raise RuntimeError(f"the transaction was not committed: {done}")


async def _roll_back(conn: asyncpg.Connection) -> None:
    if conn.is_in_transaction() and not conn.is_closed():
        await conn.execute("ROLLBACK")


IDEMPOTENCY_HEADER = "Idempotency-Key"


def _key_of(request: web.Request, *, required: bool) -> str | None:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None and required:
        raise BadRequest(
            f"an {IDEMPOTENCY_HEADER} header is required so retries cannot book twice",
            errors=[FieldError(IDEMPOTENCY_HEADER, "is required")],
        )
    if key is not None and not _KEY.match(key):
        raise BadRequest(
            f"{IDEMPOTENCY_HEADER} must be 1-255 visible ASCII characters",
            errors=[FieldError(IDEMPOTENCY_HEADER, "must be 1-255 visible ASCII characters")],
        )
    return key


def _response(result: Answer, replayed: bool) -> web.Response:
    kind = "application/json" if result.status < 400 else PROBLEM_JSON
    response = web.Response(text=result.body, status=result.status, content_type=kind)
    if replayed:
        response.headers["Idempotent-Replayed"] = "true"
    return response


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
    key = _key_of(request, required=key_required)

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
    return _response(*await retrying(attempt))


async def idempotent_fused(
    request: web.Request,
    caller: Caller,
    data: Input,
    work: Callable[[asyncpg.Connection, Claim], Awaitable[tuple[Answer, bool]]],
    *,
    first: Sequence[str],
) -> web.Response:
    """Like `idempotent` with a required key, in the fewest round trips: `BEGIN`, the claim
    and the work's `first` statements (a lock) in one; then the work, which reads the kept
    answer in its own first statement and keeps its answer in its write (see Claim), and
    answers (answer, replayed); then `COMMIT`."""
    key = _key_of(request, required=True)
    assert key is not None
    claim = Claim(
        caller.client_id, key, fingerprint(request.method, request.path, data.model_dump_json())
    )
    settings = request.app[SETTINGS]

    async def attempt() -> tuple[Answer, bool]:
        async with (
            connection(request.app[POOL], settings.db_acquire_timeout) as conn,
            opened(conn, [claim.claim_sql(), *first]),
        ):
            return await work(conn, claim)

    return _response(*await retrying(attempt))


async def idempotent_fused_optional(
    request: web.Request,
    caller: Caller,
    data: Input,
    work: Callable[[asyncpg.Connection, Claim | None], Awaitable[tuple[Answer, bool]]],
    *,
    first: Sequence[str],
) -> web.Response:
    """idempotent_fused where the Idempotency-Key is optional: without one there is no claim
    (`work` gets None) and `BEGIN` carries only the work's `first` statements."""
    key = _key_of(request, required=False)
    claim = (
        None
        if key is None
        else Claim(
            caller.client_id,
            key,
            fingerprint(request.method, request.path, data.model_dump_json()),
        )
    )
    settings = request.app[SETTINGS]

    async def attempt() -> tuple[Answer, bool]:
        claimed = [claim.claim_sql()] if claim else []
        async with (
            connection(request.app[POOL], settings.db_acquire_timeout) as conn,
            opened(conn, [*claimed, *first]),
        ):
            return await work(conn, claim)

    return _response(*await retrying(attempt))


KEY_PATTERN = r"^[\x21-\x7e]{1,255}$"  # also the OpenAPI document's pattern for the header
_KEY = re.compile(KEY_PATTERN)
