"""Adding spoke clinics to the network."""

from __future__ import annotations

import asyncpg

from spokes import store
from telehub.errors import Conflict, FieldError


async def create(
    conn: asyncpg.Connection, *, slug: str, name: str, state: str, timezone: str
) -> store.Spoke:
    """Add a clinic; a slug in use is a Conflict naming it."""
    try:
        async with conn.transaction():
            return await store.insert_spoke(
                conn, slug=slug, name=name, state=state, timezone=timezone
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(
            f"another spoke uses {slug!r} already: choose another slug",
            errors=[FieldError("slug", "is in use by another spoke")],
        ) from None
