"""Migration 019: clients registered with every scope of their kind gain groups:write; a
client registered with a narrower choice keeps exactly what was chosen."""

from __future__ import annotations

from importlib import resources

import asyncpg

from telehub.auth import KIND_SCOPES

MIGRATION = "019_groups_scope.sql"


async def test_full_hub_and_consultant_clients_gain_groups_write_and_narrow_ones_do_not(
    conn: asyncpg.Connection,
) -> None:
    consultant_id = await conn.fetchval(
        "INSERT INTO consultants (name, role, timezone) VALUES"
        " ('Old counselor', 'telehealth_counselor', 'America/New_York') RETURNING id"
    )
    before = {k: sorted(KIND_SCOPES[k] - {"groups:write"}) for k in ("hub_admin", "consultant")}
    await conn.execute(
        """
        INSERT INTO api_clients (client_id, name, kind, consultant_id, secret_hash, scopes)
        VALUES ('th_old_hub', 'Old hub', 'hub_admin', NULL, '\\x00', $1),
               ('th_old_counselor', 'Old counselor', 'consultant', $3, '\\x00', $2),
               ('th_narrow_hub', 'Narrow hub', 'hub_admin', NULL, '\\x00', $4)
        """,
        before["hub_admin"],
        before["consultant"],
        consultant_id,
        ["bookings:read", "slots:read"],
    )
    sql = resources.files("telehub.migrations").joinpath(MIGRATION).read_text()
    await conn.execute(sql)
    await conn.execute(sql)  # and running it again changes nothing more

    scopes = dict(await conn.fetch("SELECT client_id, scopes FROM api_clients"))
    assert scopes["th_old_hub"] == sorted(KIND_SCOPES["hub_admin"])
    assert scopes["th_old_counselor"] == sorted(KIND_SCOPES["consultant"])
    assert scopes["th_narrow_hub"] == ["bookings:read", "slots:read"]
