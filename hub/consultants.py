"""Adding consultants to the hub."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from hub import store
from scheduling import store as scheduling_store
from telehub.errors import FieldError, ValidationFailed
from telehub.labels import label


async def create(
    conn: asyncpg.Connection,
    *,
    name: str,
    credentials: str,
    role: str,
    timezone: str,
    licensed_states: Sequence[str],
    service_ids: Sequence[int],
) -> store.Consultant:
    """Add a consultant offering services their role may deliver."""
    errors = []
    for i, service_id in enumerate(service_ids):
        service = await scheduling_store.get_service(conn, service_id)
        if service is None or not service.active:
            errors.append(FieldError(f"service_ids.{i}", f"no active service {service_id}"))
        elif role not in service.roles:
            errors.append(
                FieldError(
                    f"service_ids.{i}",
                    f"a {label(role, 'consultant_role').lower()} may not deliver {service.name}",
                )
            )
    if errors:
        raise ValidationFailed("; ".join(f"{e.field}: {e.detail}" for e in errors), errors=errors)
    return await store.insert_consultant(
        conn,
        name=name,
        credentials=credentials,
        role=role,
        timezone=timezone,
        licensed_states=licensed_states,
        service_ids=service_ids,
    )
