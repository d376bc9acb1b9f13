"""A lost phone: `telehub reset-authenticator EMAIL` makes the user set up a new one."""

from __future__ import annotations

import os
import subprocess

import asyncpg
import pytest

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
