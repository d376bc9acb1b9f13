"""SQL for the hub's consultants and the services each offers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

_COLUMNS = """
    c.id, c.name, c.credentials, c.role, c.timezone, c.licensed_states, c.active,
    coalesce((SELECT array_agg(cs.service_id ORDER BY cs.service_id)
              FROM consultant_services cs WHERE cs.consultant_id = c.id), '{}') AS service_ids
"""


@dataclass(frozen=True, slots=True)
class Consultant:
    """A hub psychiatric consultant or counselor."""

    id: int
    name: str
    credentials: str
    role: str
    timezone: str
    licensed_states: tuple[str, ...]
    active: bool
    service_ids: tuple[int, ...]


def _consultant(row: asyncpg.Record) -> Consultant:
    values = dict(row)
    values["licensed_states"] = tuple(values["licensed_states"])
    values["service_ids"] = tuple(values["service_ids"])
    return Consultant(**values)


async def insert_consultant(
    conn: asyncpg.Connection,
    *,
    name: str,
    credentials: str,
    role: str,
    timezone: str,
    licensed_states: Sequence[str],
    service_ids: Sequence[int],
) -> Consultant:
    """Add a consultant and the services they offer."""
    consultant_id = await conn.fetchval(
        """
        INSERT INTO consultants (name, credentials, role, timezone, licensed_states)
        VALUES ($1, $2, $3, $4, $5) RETURNING id
        """,
        name,
        credentials,
        role,
        timezone,
        sorted(set(licensed_states)),
    )
    await conn.execute(
        """
        INSERT INTO consultant_services (consultant_id, service_id)
        SELECT $1, unnest($2::bigint[])
        """,
        consultant_id,
        sorted(set(service_ids)),
    )
    found = await get_consultant(conn, consultant_id)
    assert found is not None
    return found


async def get_consultant(conn: asyncpg.Connection, consultant_id: int) -> Consultant | None:
    """One consultant by id."""
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM consultants c WHERE c.id = $1", consultant_id
    )
    return _consultant(row) if row else None


async def list_consultants(
    conn: asyncpg.Connection,
    *,
    service_id: int | None = None,
    role: str | None = None,
    licensed_in: str | None = None,
    include_inactive: bool = False,
) -> list[Consultant]:
    """Consultants, optionally those offering a service, of a role, licensed in a state."""
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM consultants c
        WHERE ($1::bigint IS NULL OR EXISTS (
                  SELECT 1 FROM consultant_services cs
                  WHERE cs.consultant_id = c.id AND cs.service_id = $1))
          AND ($2::text IS NULL OR c.role = $2)
          AND ($3::text IS NULL OR $3 = ANY (c.licensed_states))
          AND (c.active OR $4)
        ORDER BY c.name, c.id
        """,
        service_id,
        role,
        licensed_in,
        include_inactive,
    )
    return [_consultant(r) for r in rows]
