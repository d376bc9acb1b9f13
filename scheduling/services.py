"""Creating the services the hub offers."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from scheduling import store
from telehub.errors import Conflict, FieldError, ValidationFailed


async def create(
    conn: asyncpg.Connection,
    *,
    kind: store.ServiceKind,
    name: str,
    duration_minutes: int,
    roles: Sequence[str],
    buffer_before_minutes: int = 0,
    buffer_after_minutes: int = 0,
    interval_minutes: int | None = None,
    min_notice_minutes: int = 0,
    horizon_days: int = 60,
    turnaround_hours: int | None = None,
) -> store.Service:
    """Add a service; names are unique, and e-consults need a turnaround."""
    if kind == "econsult" and turnaround_hours is None:
        raise ValidationFailed(
            "turnaround_hours: an e-consult needs a turnaround (its answer SLA)",
            errors=[FieldError("turnaround_hours", "is required for e-consults")],
        )
    try:
        async with conn.transaction():
            return await store.insert_service(
                conn,
                kind=kind,
                name=name,
                duration_minutes=duration_minutes,
                roles=roles,
                buffer_before_minutes=buffer_before_minutes,
                buffer_after_minutes=buffer_after_minutes,
                interval_minutes=interval_minutes,
                min_notice_minutes=min_notice_minutes,
                horizon_days=horizon_days,
                turnaround_hours=turnaround_hours,
            )
    except asyncpg.UniqueViolationError:
        raise Conflict(f"a service named {name!r} exists already") from None
