"""Slow down repeated failures (passwords, client secrets), counted atomically in PostgreSQL.

`claim` counts an attempt *before* the credential is checked, in one statement per subject, so
twenty guesses sent at once are counted as twenty, not raced past the limit. The first `free`
attempts pass; from then on each attempt that passes sets a wait that doubles up to `cap`
seconds, and attempts during the wait are refused without being counted (so a real user's
correct password, tried after the wait, still works). A success `forget`s the subject.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg


@dataclass(frozen=True, slots=True)
class Limit:
    """A kind of attempt and how many failures it forgives before waits start."""

    name: str
    free: int
    cap_seconds: float


# Per account: short waits, so an attacker elsewhere cannot lock a real user out for long.
SIGNIN_ACCOUNT = Limit("signin-account", free=3, cap_seconds=60)
# Per address: one password tried across many accounts is slowed too. The cap stays short:
# if the address is wrong (a proxy not listed in TELEHUB_TRUSTED_PROXIES, or a clinic's NAT)
# everyone behind it shares the wait, so it must never lock them out for long.
SIGNIN_ADDRESS = Limit("signin-address", free=10, cap_seconds=60)
TOKEN_CLIENT = Limit("token-client", free=5, cap_seconds=60)
TOKEN_ADDRESS = Limit("token-address", free=20, cap_seconds=60)
MFA_ACCOUNT = Limit("mfa-account", free=5, cap_seconds=300)

KEEP_HOURS = 24  # a subject untouched this long starts again from nothing


def _digest(subject: str) -> bytes:
    return hashlib.sha256(subject.encode()).digest()


async def claim(conn: asyncpg.Connection, checks: Sequence[tuple[Limit, str]]) -> float | None:
    """Count this attempt against each (limit, subject); seconds to wait if refused, else None.

    Call it outside the transaction that checks the credential: the count must stand whatever
    that transaction does. A refused attempt is not counted against its subject (the check
    before the counting makes it rare for another of `checks` to have counted it).
    """
    wait: float | None = await conn.fetchval(
        """
        SELECT max(extract(epoch FROM t.blocked_until - now()))::float8
        FROM throttle t JOIN unnest($1::text[], $2::bytea[]) AS c (name, subject)
          ON t.limit_name = c.name AND t.subject = c.subject
        WHERE t.blocked_until > now()
        """,
        [limit.name for limit, _ in checks],
        [_digest(subject) for _, subject in checks],
    )
    if wait is not None:
        return wait
    for limit, subject in checks:
        # One statement, so the row lock orders parallel attempts: each sees the one before.
        # In SET, `t.` is the row before this attempt.
        row = await conn.fetchrow(
            """
            INSERT INTO throttle AS t (limit_name, subject, attempts, blocked_until, passed)
            VALUES ($1, $2, 1,
                    CASE WHEN $3 <= 1 THEN now() + make_interval(secs => least($4, 1)) END, true)
            ON CONFLICT (limit_name, subject) DO UPDATE SET
                passed = NOT coalesce(t.blocked_until > now(), false),
                attempts = CASE WHEN t.blocked_until > now() THEN t.attempts
                                ELSE t.attempts + 1 END,
                blocked_until = CASE
                    WHEN t.blocked_until > now() THEN t.blocked_until
                    WHEN t.attempts + 1 >= $3 THEN now() + make_interval(
                        secs => least($4, power(2, least(t.attempts + 1 - $3, 30))))
                    END,
                updated_at = now()
            RETURNING passed, extract(epoch FROM blocked_until - now())::float8 AS wait
            """,
            limit.name,
            _digest(subject),
            limit.free,
            limit.cap_seconds,
        )
        assert row is not None
        if not row["passed"]:
            return float(row["wait"])
    return None


async def forget(conn: asyncpg.Connection, limit: Limit, subject: str) -> None:
    """A success: this subject starts again from nothing."""
    await conn.execute(
        "DELETE FROM throttle WHERE limit_name = $1 AND subject = $2", limit.name, _digest(subject)
    )


async def refund(conn: asyncpg.Connection, limit: Limit, subject: str) -> None:
    """A success that must not count (a clinic's many good sign-ins from one address): take
    back its attempt and the wait it may have set, keeping the failures before it."""
    await conn.execute(
        """
        UPDATE throttle SET attempts = greatest(attempts - 1, 0), blocked_until = NULL
        WHERE limit_name = $1 AND subject = $2
        """,
        limit.name,
        _digest(subject),
    )


async def sweep(conn: asyncpg.Connection) -> int:
    """Forget subjects untouched for a day; return how many."""
    done = await conn.execute(
        "DELETE FROM throttle WHERE updated_at < now() - make_interval(hours => $1)", KEEP_HOURS
    )
    return int(done.split()[-1])
