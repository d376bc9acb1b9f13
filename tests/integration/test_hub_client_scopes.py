"""Migration 014: hub clients registered with every scope lose the clinic-only ones."""

from __future__ import annotations

from importlib import resources

import asyncpg

from telehub.auth import ALL_SCOPES, KIND_SCOPES

MIGRATION = "010_hub_client_scopes.sql"


async def test_the_migration_leaves_hub_clients_only_the_scopes_a_hub_can_use(
    conn: asyncpg.Connection,
) -> None:
    # Rows as telehub registered them before: a hub client held every scope.
    await conn.execute(
        """
        INSERT INTO api_clients (client_id, name, kind, secret_hash, scopes)
        VALUES ('th_old_hub', 'Old hub', 'hub_admin', '\\x00', $1),
               ('th_narrow_hub', 'Narrow hub', 'hub_admin', '\\x00', $2)
        """,
        sorted(ALL_SCOPES),
        ["patients:read", "services:read"],
    )
    sql = resources.files("telehub.migrations").joinpath(MIGRATION).read_text()
    await conn.execute(sql)
    await conn.execute(sql)  # and running it again changes nothing more

    scopes = dict(await conn.fetch("SELECT client_id, scopes FROM api_clients"))
    assert scopes["th_old_hub"] == sorted(KIND_SCOPES["hub_admin"])
    assert scopes["th_narrow_hub"] == ["services:read"]
