"""Migration 022: clients registered with every scope of their kind gain consents:read and
consents:write; a client registered with a narrower choice keeps exactly what was chosen."""

from __future__ import annotations

from importlib import resources

import asyncpg

from telehub.auth import KIND_SCOPES

MIGRATION = "022_consent_scopes.sql"
NEW = {"consents:read", "consents:write"}


async def test_full_hub_and_clinic_clients_gain_the_consent_scopes_and_narrow_ones_do_not(
    conn: asyncpg.Connection,
) -> None:
    spoke_id = await conn.fetchval(
        "INSERT INTO spokes (slug, name, state, timezone)"
        " VALUES ('old', 'Old clinic', 'VT', 'America/New_York') RETURNING id"
    )
    await conn.execute(
        """
        INSERT INTO api_clients (client_id, name, kind, spoke_id, secret_hash, scopes)
        VALUES ('th_old_hub', 'Old hub', 'hub_admin', NULL, '\\x00', $1),
               ('th_old_clinic', 'Old clinic', 'spoke', $3, '\\x00', $2),
               ('th_narrow_clinic', 'Narrow clinic', 'spoke', $3, '\\x00', $4),
               ('th_narrow_hub', 'Narrow hub', 'hub_admin', NULL, '\\x00', $5)
        """,
        sorted(KIND_SCOPES["hub_admin"] - NEW),
        sorted(KIND_SCOPES["spoke"] - NEW),
        spoke_id,
        ["patients:read", "slots:read"],
        ["bookings:read"],
    )
    sql = resources.files("telehub.migrations").joinpath(MIGRATION).read_text()
    await conn.execute(sql)
    await conn.execute(sql)  # and running it again changes nothing more

    scopes = dict(await conn.fetch("SELECT client_id, scopes FROM api_clients"))
    assert scopes["th_old_hub"] == sorted(KIND_SCOPES["hub_admin"])
    assert scopes["th_old_clinic"] == sorted(KIND_SCOPES["spoke"])
    assert scopes["th_narrow_clinic"] == ["patients:read", "slots:read"]
    assert scopes["th_narrow_hub"] == ["bookings:read"]
    assert KIND_SCOPES["spoke"] >= NEW and KIND_SCOPES["hub_admin"] >= NEW
    assert not NEW & KIND_SCOPES["consultant"]
