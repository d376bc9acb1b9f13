"""A lost phone: `telehub reset-authenticator EMAIL` makes the user set up a new one."""

from __future__ import annotations

import os
import subprocess

import asyncpg
import pytest

from telehub import sessions
from tests.e2e.processes import TELEHUB
from tests.factories import Network

pytestmark = pytest.mark.slow


def _telehub(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TELEHUB, *args],
        env={**os.environ, "DATABASE_URL": url},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_reset_authenticator_forgets_the_key_and_the_recovery_codes(
    network: Network, conn: asyncpg.Connection, database_url: str
) -> None:
    email, _ = await network.user("hub_coordinator")
    other, _ = await network.user("hub_admin")

    reset = _telehub(database_url, "reset-authenticator", email.upper())
    assert reset.returncode == 0, reset.stderr
    assert "new authenticator" in reset.stdout
    left = await conn.fetch(
        "SELECT u.email FROM user_mfa m JOIN users u ON u.id = m.user_id"
        " UNION ALL SELECT u.email FROM mfa_recovery_codes c JOIN users u ON u.id = c.user_id"
    )
    assert {r["email"] for r in left} == {other}

    again = _telehub(database_url, "reset-authenticator", email)
    assert again.returncode == 1
    assert "has no authenticator" in again.stderr


async def test_reset_authenticator_ends_the_users_sessions_and_half_done_sign_ins(
    network: Network, conn: asyncpg.Connection, database_url: str
) -> None:
    email, _ = await network.user("hub_coordinator")
    other, _ = await network.user("hub_admin")
    for n, who in enumerate((email, email, other)):
        user_id = await conn.fetchval("SELECT id FROM users WHERE email = $1", who)
        await sessions.create(conn, f"session-{n}".encode(), user_id, f"csrf-{n}")
        await sessions.start_pending(conn, f"pending-{n}".encode(), user_id, "/coordinator")

    reset = _telehub(database_url, "reset-authenticator", email)
    assert reset.returncode == 0, reset.stderr
    assert "signed out" in reset.stdout
    for table in ("web_sessions", "signin_pending"):
        left = await conn.fetch(f"SELECT u.email FROM {table} t JOIN users u ON u.id = t.user_id")
        assert [r["email"] for r in left] == [other], table
