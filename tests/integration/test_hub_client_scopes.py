"""Migration 010: hub clients registered with every scope lose the clinic-only ones."""

from __future__ import annotations

from importlib import resources

import asyncpg

from telehub.auth import ALL_SCOPES

MIGRATION = "010_hub_client_scopes.sql"
# Scopes that came after migration 010 (groups, the registry, consents): a client of that
# time could not hold them, and later migrations grant them.
LATER = {"groups:write", "registry:read", "registry:write", "consents:read", "consents:write"}
THEN = ALL_SCOPES - LATER
CLINIC_ONLY_THEN = {"patients:read", "patients:write", "notes:acknowledge"}


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
        sorted(THEN),
        ["patients:read", "services:read"],
    )
    sql = resources.files("telehub.migrations").joinpath(MIGRATION).read_text()
    await conn.execute(sql)
    await conn.execute(sql)  # and running it again changes nothing more

    scopes = dict(await conn.fetch("SELECT client_id, scopes FROM api_clients"))
    assert scopes["th_old_hub"] == sorted(THEN - CLINIC_ONLY_THEN)
    assert scopes["th_narrow_hub"] == ["services:read"]
