"""The audit trail: who read or changed which patient-linked record, when, from where."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import asyncpg

Action = Literal["read", "create", "update", "cancel", "delete"]


@dataclass(frozen=True, slots=True)
class Trail:
    """Who is acting and from where: what every audit row records."""

    actor: str
    request_id: str | None = None
    remote_addr: str | None = None


async def record(
    conn: asyncpg.Connection,
    trail: Trail,
    action: Action,
    record_type: str,
    record_ids: Sequence[object],
    spoke_id: int | None,
) -> None:
    """Write one audit row per record, in the caller's transaction."""
    if not record_ids:
        return
    await conn.execute(
        "SELECT audit_write($1, $2, $3, $4::text[], $5, $6, $7)",  # migration 024
        trail.actor,
        action,
        record_type,
        [str(i) for i in record_ids],
        spoke_id,
        trail.request_id,
        trail.remote_addr,
    )
