"""Availability: publishing a consultant's hours, and searching open slots."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

import asyncpg

from hub import store as hub_store
from scheduling import store, waitlist
from scheduling.slots import Period, Slot, open_slots
from telehub.auth import Caller
from telehub.errors import FieldError, Forbidden, NotFound, ValidationFailed

MAX_SEARCH = timedelta(days=92)


async def search(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    window: Period,
    consultant_id: int | None,
    patient_state: str | None,
    now: datetime,
) -> list[Slot]:
    """Open slots of one service across all (or one) consultants, in a constant few queries."""
    service = await store.get_service(conn, service_id)
    if service is None or not service.active:
        raise ValidationFailed(
            "service_id: no active service with this id",
            errors=[FieldError("service_id", "no active service with this id")],
        )
    if service.kind == "group_session":  # seats in groups, never 1:1 slots
        words = "is a group session: find groups with open seats (GET /api/v1/groups)"
        raise ValidationFailed(f"service_id: {words}", errors=[FieldError("service_id", words)])
    if service.terms.requires_license and patient_state is None:
        raise ValidationFailed(
            "patient_state is required for video sessions (consultants must be licensed there)",
            errors=[FieldError("patient_state", "is required for video sessions")],
        )
    calendars = await store.load_calendars(
        conn, service, window, consultant_id=consultant_id, now=now
    )
    return open_slots(calendars, service.terms, window, now, patient_state)


async def publish(
    conn: asyncpg.Connection,
    caller: Caller,
    consultant_id: int,
    rules: Sequence[store.RuleRow],
    exceptions: Sequence[store.ExceptionRow],
    *,
    now: datetime,
) -> hub_store.Consultant:
    """Replace a consultant's weekly hours and exceptions (the hub, or the consultant)."""
    if not caller.is_hub_admin and caller.consultant_id != consultant_id:
        raise Forbidden("only the hub or the consultant may change these hours")
    consultant = await hub_store.get_consultant(conn, consultant_id)
    if consultant is None:
        raise NotFound("no such consultant")
    offered = set(consultant.service_ids)
    asked: list[tuple[str, tuple[int, ...] | None]] = [
        *((f"rules.{i}", r.service_ids) for i, r in enumerate(rules)),
        *((f"exceptions.{i}", e.service_ids) for i, e in enumerate(exceptions)),
    ]
    errors = [
        FieldError(f"{where}.service_ids", f"the consultant does not offer service {sid}")
        for where, ids in asked
        for sid in ids or ()
        if sid not in offered
    ]
    if errors:
        raise ValidationFailed("; ".join(e.field + ": " + e.detail for e in errors), errors=errors)
    seen = await waitlist.watch(conn, [consultant_id], now)
    await store.replace_availability(conn, consultant_id, rules, exceptions)
    await waitlist.tell(conn, seen, now)  # new or longer hours: tell who waits for them
    return consultant


async def hours_of(
    conn: asyncpg.Connection, consultant_id: int
) -> tuple[hub_store.Consultant, list[store.RuleRow], list[store.ExceptionRow]]:
    """A consultant's published hours; NotFound for an unknown consultant."""
    consultant = await hub_store.get_consultant(conn, consultant_id)
    if consultant is None:
        raise NotFound("no such consultant")
    return (consultant, *await store.get_availability(conn, consultant_id))
