"""SQL for web sessions, the half-signed-in state after a password, and second factors."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import asyncpg

from telehub import mfa
from telehub.users import User

ABSOLUTE = timedelta(hours=12)
# Between a right password and its second factor: long enough to find the phone.
PENDING = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class Session:
    """A signed-in browser: whose, its CSRF token, and a one-time notice to show."""

    user: User
    csrf_token: str
    flash: str | None


@dataclass(frozen=True, slots=True)
class Pending:
    """A password checked, a second factor still to come: who, where to go after, and a
    secret being enrolled (sealed) if they have none yet."""

    user: User
    next: str
    enrol_secret_sealed: bytes | None


@dataclass(frozen=True, slots=True)
class Authenticator:
    """An enrolled authenticator: its sealed secret and the wrong codes typed since the last
    right one."""

    secret_sealed: bytes
    failed_codes: int


@dataclass(frozen=True, slots=True)
class SecondFactor:
    """What decides the step after a right password: an enrolled authenticator, or a rule."""

    enrolled: bool
    spoke_requires: bool


async def create(
    conn: asyncpg.Connection,
    token_hash: bytes,
    user_id: int,
    csrf_token: str,
    flash: str | None = None,
) -> None:
    """Start a session (it ends when idle too long, or after twelve hours at most)."""
    await conn.execute(
        """
        INSERT INTO web_sessions (token_hash, user_id, csrf_token, expires_at, flash)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4), $5)
        """,
        token_hash,
        user_id,
        csrf_token,
        ABSOLUTE.total_seconds(),
        flash,
    )


async def touch(conn: asyncpg.Connection, token_hash: bytes, idle_minutes: int) -> Session | None:
    """The live session for this token, its idle clock restarted; None if ended."""
    row = await conn.fetchrow(
        """
        UPDATE web_sessions s SET last_seen_at = now(), flash = NULL
        FROM users u
        WHERE s.token_hash = $1 AND u.id = s.user_id AND u.active
          AND s.expires_at > now() AND s.last_seen_at > now() - make_interval(mins => $2)
        RETURNING u.id, u.email, u.name, u.role, u.spoke_id, u.consultant_id,
                  s.csrf_token, (SELECT flash FROM web_sessions WHERE token_hash = $1) AS flash
        """,
        token_hash,
        idle_minutes,
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


async def second_factor(conn: asyncpg.Connection, user: User) -> SecondFactor:
    """Whether the user has an authenticator, and whether their clinic asks for one."""
    row = await conn.fetchrow(
        """
        SELECT EXISTS (SELECT 1 FROM user_mfa WHERE user_id = $1) AS enrolled,
               coalesce((SELECT mfa_required FROM spokes WHERE id = $2), false) AS spoke_requires
        """,
        user.id,
        user.spoke_id,
    )
    assert row is not None
    return SecondFactor(row["enrolled"], row["spoke_requires"])


async def start_pending(
    conn: asyncpg.Connection, token_hash: bytes, user_id: int, next_path: str
) -> None:
    """Remember a right password for a few minutes, until the second factor comes."""
    await conn.execute(
        """
        INSERT INTO signin_pending (token_hash, user_id, next, expires_at)
        VALUES ($1, $2, $3, now() + make_interval(secs => $4))
        """,
        token_hash,
        user_id,
        next_path,
        PENDING.total_seconds(),
    )


async def pending(conn: asyncpg.Connection, token_hash: bytes) -> Pending | None:
    """The half-signed-in state for this token, if it has not run out."""
    row = await conn.fetchrow(
        """
        SELECT u.id, u.email, u.name, u.role, u.spoke_id, u.consultant_id,
               p.next, p.enrol_secret_sealed
        FROM signin_pending p JOIN users u ON u.id = p.user_id
        WHERE p.token_hash = $1 AND p.expires_at > now() AND u.active
        """,
        token_hash,
    )
    if row is None:
        return None
    values = dict(row)
    next_path, sealed = values.pop("next"), values.pop("enrol_secret_sealed")
    return Pending(User(**values), next_path, sealed)


async def keep_enrol_secret(conn: asyncpg.Connection, token_hash: bytes, sealed: bytes) -> bytes:
    """Keep the secret offered for enrolment (the first one offered, if two pages raced)."""
    kept: bytes = await conn.fetchval(
        """
        UPDATE signin_pending SET enrol_secret_sealed = coalesce(enrol_secret_sealed, $2)
        WHERE token_hash = $1 RETURNING enrol_secret_sealed
        """,
        token_hash,
        sealed,
    )
    return kept


async def end_pending(conn: asyncpg.Connection, token_hash: bytes) -> bool:
    """The second factor came: the half-signed-in state is used up (False if already)."""
    done = await conn.execute("DELETE FROM signin_pending WHERE token_hash = $1", token_hash)
    return done != "DELETE 0"


async def sealed_secret(conn: asyncpg.Connection, user_id: int) -> bytes | None:
    """The user's sealed TOTP secret, if they have enrolled one."""
    value: bytes | None = await conn.fetchval(
        "SELECT secret_sealed FROM user_mfa WHERE user_id = $1", user_id
    )
    return value


async def authenticator(
    conn: asyncpg.Connection, user_id: int, *, for_update: bool = False
) -> Authenticator | None:
    """The user's authenticator, if enrolled; `for_update` holds it until the transaction ends,
    so parallel codes are counted one after the other."""
    query = "SELECT secret_sealed, failed_codes FROM user_mfa WHERE user_id = $1"
    if for_update:
        query = "SELECT secret_sealed, failed_codes FROM user_mfa WHERE user_id = $1 FOR UPDATE"
    row = await conn.fetchrow(query, user_id)
    return None if row is None else Authenticator(**dict(row))


async def count_wrong_code(conn: asyncpg.Connection, user_id: int) -> int:
    """One more wrong code in a row; how many now."""
    failed: int = await conn.fetchval(
        "UPDATE user_mfa SET failed_codes = failed_codes + 1 WHERE user_id = $1"
        " RETURNING failed_codes",
        user_id,
    )
    return failed


async def clear_wrong_codes(conn: asyncpg.Connection, user_id: int) -> None:
    """A right code: the wrong ones before it no longer count."""
    await conn.execute("UPDATE user_mfa SET failed_codes = 0 WHERE user_id = $1", user_id)


async def end_sessions_without_authenticator(conn: asyncpg.Connection, spoke_id: int) -> int:
    """A clinic now asks for a second factor: sign out its staff who have none, so that they
    enrol at their next sign-in; how many sessions ended."""
    done = await conn.execute(
        """
        DELETE FROM web_sessions s USING users u
        WHERE u.id = s.user_id AND u.spoke_id = $1
          AND NOT EXISTS (SELECT 1 FROM user_mfa m WHERE m.user_id = u.id)
        """,
        spoke_id,
    )
    return int(done.split()[-1])


async def use_step(conn: asyncpg.Connection, user_id: int, step: int) -> bool:
    """Record a code's time step as used; False if it (or a later one) already was."""
    row = await conn.fetchval(
        "UPDATE user_mfa SET last_step = $2 WHERE user_id = $1 AND last_step < $2 RETURNING 1",
        user_id,
        step,
    )
    return row is not None


async def enrol(
    conn: asyncpg.Connection,
    user_id: int,
    sealed: bytes,
    step: int,
    recovery_hashes: list[bytes],
) -> bool:
    """Store a confirmed authenticator and its recovery codes; False if one already was."""
    row = await conn.fetchval(
        """
        INSERT INTO user_mfa (user_id, secret_sealed, last_step) VALUES ($1, $2, $3)
        ON CONFLICT (user_id) DO NOTHING RETURNING 1
        """,
        user_id,
        sealed,
        step,
    )
    if row is None:
        return False
    await conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = $1", user_id)
    await conn.executemany(
        "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES ($1, $2)",
        [(user_id, code_hash) for code_hash in recovery_hashes],
    )
    return True


async def use_recovery_code(conn: asyncpg.Connection, user_id: int, code_hash: bytes) -> int | None:
    """Spend one recovery code; how many are left, or None if it was wrong or spent."""
    row = await conn.fetchval(
        """
        UPDATE mfa_recovery_codes SET used_at = now()
        WHERE user_id = $1 AND code_hash = $2 AND used_at IS NULL RETURNING 1
        """,
        user_id,
        code_hash,
    )
    if row is None:
        return None
    left: int = await conn.fetchval(
        "SELECT count(*) FROM mfa_recovery_codes WHERE user_id = $1 AND used_at IS NULL",
        user_id,
    )
    return left


async def enrol_authenticator(
    conn: asyncpg.Connection, secret_key: str, user_id: int, totp_secret: str | None = None
) -> tuple[str, list[str]]:
    """Turn on the second factor for a user outside the pages (demo, admin, tests): the
    secret (given or new) and ten recovery codes."""
    secret = totp_secret or mfa.new_secret()
    codes = mfa.new_recovery_codes()
    hashes = [mfa.recovery_hash(secret_key, code) for code in codes]
    if not await enrol(conn, user_id, mfa.seal(secret_key, user_id, secret), 0, hashes):
        raise ValueError(f"user {user_id} already has an authenticator")
    return secret, codes


async def forget_authenticator(conn: asyncpg.Connection, email: str) -> bool:
    """A lost phone (or a locked or unreadable authenticator): drop the user's authenticator and
    recovery codes, and end their sessions and half-done sign-ins (a lost phone may go with a
    stolen laptop), so that they set up a new one after their next password; False if they had
    no authenticator (their sessions are ended all the same)."""
    user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", email.strip().lower())
    if user_id is None:
        return False
    await conn.execute("DELETE FROM web_sessions WHERE user_id = $1", user_id)
    await conn.execute("DELETE FROM signin_pending WHERE user_id = $1", user_id)
    await conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = $1", user_id)
    done = await conn.execute("DELETE FROM user_mfa WHERE user_id = $1", user_id)
    return done != "DELETE 0"
