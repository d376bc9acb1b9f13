"""SQL for web sessions and the sign-in throttle."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from telehub.users import User

IDLE = timedelta(minutes=60)
ABSOLUTE = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: whose, its CSRF token, and a one-time notice to show."""

    user: User
    csrf_token: str
    flash: str | None


async def create(
    conn: asyncpg.Connection, token_hash: bytes, user_id: int, csrf_token: str
) -> None:
    """Start a session (it ends after an idle hour, or twelve hours at most)."""
    await conn.execute(
        """
        INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        """,
        token_hash,
        user_id,
        csrf_token,
        ABSOLUTE.total_seconds(),
    )


async def touch(conn: asyncpg.Connection, token_hash: bytes) -> Session | None:
    """The live session for this token, its idle clock restarted; None if ended."""
    row = await conn.fetchrow(
        """
        UPDATE web_sessions s SET last_seen_at = now(), flash = NULL
        FROM users u
        WHERE s.token_hash = $1 AND u.id = s.user_id AND u.active
          AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(secs => $2)
        RETURNING u.id, u.email, u.name, u.role, u.spoke_id, u.consultant_id,
                  s.csrf_token, (SELECT flash FROM web_sessions WHERE token_hash = $1) AS flash
        """,
        token_hash,
        IDLE.total_seconds(),
    )
    if row is None:
        return None
    values = dict(row)
    csrf, flash = values.pop("csrf_token"), values.pop("flash")
    return Session(User(**values), csrf, flash)


async def end(conn: asyncpg.Connection, token_hash: bytes) -> None:
    """Sign out."""
    await conn.execute("DELETE FROM web_sessions WHERE token_hash = $1", token_hash)


async def set_flash(conn: asyncpg.Connection, token_hash: bytes, message: str) -> None:
    """Leave a notice for the next page this session sees."""
    await conn.execute(
        "UPDATE web_sessions SET flash = $2 WHERE token_hash = $1", token_hash, message
    )


async def user_with_password(conn: asyncpg.Connection, email: str) -> tuple[User, str] | None:
    """An active user and their password hash, by email."""
    row = await conn.fetchrow(
        """
        SELECT id, email, name, role, spoke_id, consultant_id, password_hash
        FROM users WHERE email = $1 AND active
        """,
        email.lower(),
    )
    if row is None:
        return None
    values = dict(row)
    password_hash = values.pop("password_hash")
    return User(**values), password_hash


async def blocked_until(conn: asyncpg.Connection, email: str) -> datetime | None:
    """Until when sign-in for this email must wait, if it must."""
    value: datetime | None = await conn.fetchval(
        "SELECT blocked_until FROM login_throttle WHERE email = $1 AND blocked_until > now()",
        email.lower(),
    )
    return value


async def record_failure(conn: asyncpg.Connection, email: str) -> int:
    """Count a failed sign-in; from the third, each doubles the wait (up to 15 minutes)."""
    failures: int = await conn.fetchval(
        """
        INSERT INTO login_throttle (email, failures) VALUES ($1, 1)
        ON CONFLICT (email) DO UPDATE SET failures = login_throttle.failures + 1
        RETURNING failures
        """,
        email.lower(),
    )
    if failures >= 3:
        wait = min(2 ** (failures - 3), 900)
        await conn.execute(
            "UPDATE login_throttle SET blocked_until = now() + make_interval(secs => $2)"
            " WHERE email = $1",
            email.lower(),
            wait,
        )
    return failures


async def clear_failures(conn: asyncpg.Connection, email: str) -> None:
    """A successful sign-in forgets earlier failures."""
    await conn.execute("DELETE FROM login_throttle WHERE email = $1", email.lower())
