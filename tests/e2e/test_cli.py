"""The `telehub` command: migrate, demo --json, and the admin commands."""

from __future__ import annotations

import json
import os
import subprocess

import asyncpg
import pytest

from tests.e2e.processes import TELEHUB

pytestmark = pytest.mark.slow


def _telehub(url: str, *args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TELEHUB, *args],
        env={**os.environ, "DATABASE_URL": url, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_demo_json_seeds_an_empty_database_once_in_the_documented_shape(
    empty_database_url: str,
) -> None:
    migrated = _telehub(empty_database_url, "migrate")
    assert migrated.returncode == 0, migrated.stderr
    assert "001_core.sql" in migrated.stdout

    seeded = _telehub(empty_database_url, "demo", "--json")

    assert seeded.returncode == 0, seeded.stderr
    network = json.loads(seeded.stdout)
    assert set(network["hub_admin"]) >= {"client_id", "client_secret"}
    assert len(network["consultants"]) >= 6
    assert len({c["timezone"] for c in network["consultants"]}) >= 2
    assert len(network["spokes"]) >= 4
    assert len({s["state"] for s in network["spokes"]}) >= 4
    for spoke in network["spokes"]:
        assert set(spoke) >= {
            "id",
            "name",
            "state",
            "timezone",
            "client_id",
            "client_secret",
            "users",
        }
        assert all(set(u) >= {"email", "password"} for u in spoke["users"])
    for consultant in network["consultants"]:
        assert set(consultant) >= {"id", "name", "timezone", "users"}
    assert {s["kind"] for s in network["services"]} == {
        "econsult",
        "video_session",
        "case_review",
        "group_session",
    }
    conn = await asyncpg.connect(empty_database_url)
    try:
        assert await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'") > 0
        # Hours that do not run out: the demo looks the same whatever day it is opened.
        assert await conn.fetchval("SELECT count(*) FROM availability_rules") > 0
        assert not await conn.fetchval(
            "SELECT count(*) FROM availability_rules WHERE valid_until IS NOT NULL"
        )
    finally:
        await conn.close()

    again = _telehub(empty_database_url, "demo")
    assert again.returncode == 1
    assert "already" in again.stderr


async def test_admin_commands_create_a_spoke_its_client_and_a_user(
    empty_database_url: str,
) -> None:
    assert _telehub(empty_database_url, "migrate").returncode == 0
    spoke = _telehub(
        empty_database_url,
        "create-spoke",
        "--slug",
        "lakeside",
        "--name",
        "Lakeside Clinic",
        "--state",
        "MN",
        "--timezone",
        "America/Chicago",
    )
    assert spoke.returncode == 0, spoke.stderr
    client = _telehub(
        empty_database_url,
        "create-client",
        "--kind",
        "spoke",
        "--spoke",
        "lakeside",
        "--name",
        "Lakeside EHR",
    )
    assert client.returncode == 0, client.stderr
    credentials = json.loads(client.stdout)
    assert credentials["client_id"].startswith("th_") and len(credentials["client_secret"]) > 40
    user = _telehub(
        empty_database_url,
        "create-user",
        "--email",
        "Sched@Lakeside.test",
        "--name",
        "Scheduler",
        "--role",
        "spoke_scheduler",
        "--spoke",
        "lakeside",
        TELEHUB_NEW_PASSWORD="correct horse battery staple",
    )
    assert user.returncode == 0, user.stderr
    assert "correct horse" not in user.stdout
    missing = _telehub(
        empty_database_url, "create-client", "--kind", "spoke", "--spoke", "nowhere", "--name", "x"
    )
    assert missing.returncode == 2
    assert "nowhere" in missing.stderr
    conn = await asyncpg.connect(empty_database_url)
    try:
        row = await conn.fetchrow("SELECT email, password_hash FROM users")
    finally:
        await conn.close()
    assert row["email"] == "sched@lakeside.test"
    assert row["password_hash"].startswith("$argon2id$")


def test_serve_without_its_required_settings_names_what_is_missing() -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TELEHUB_SECRET_KEY"}}
    result = subprocess.run([TELEHUB, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "DATABASE_URL is required" in result.stderr
