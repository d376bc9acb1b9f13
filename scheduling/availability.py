"""Availability: publishing a consultant's hours, and searching open slots."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta

import asyncpg

from hub import store as hub_store
from scheduling import store, waitlist
from scheduling.slots import ConsultantCalendar, ExtraHours, Period, Slot, open_slots
from telehub.auth import Caller
from telehub.errors import FieldError, Forbidden, NotFound, ValidationFailed

MAX_SEARCH = timedelta(days=92)
MAX_LIMIT = 1000
# A search for the first few slots reads the window a chunk at a time: a day, then twice as
# much as before, so a full window costs a handful of chunks and an early answer one.
FIRST_CHUNK = timedelta(days=1)


async def search(
    conn: asyncpg.Connection,
    *,
    service_id: int,
    window: Period,
    consultant_id: int | None,
    patient_state: str | None,
    now: datetime,
    limit: int | None = None,
) -> list[Slot]:
    """Open slots of one service across all (or one) consultants, in a constant few queries.

    With `limit`, the first `limit` of them by (start, consultant), read a growing chunk of
    the window at a time until that many are found: the cost follows how far away they are,
    not the length of the window.
    """
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
    if limit is not None:
        return await _first_slots(conn, service, window, consultant_id, patient_state, now, limit)
    calendars = await store.load_calendars(
        conn, service, window, consultant_id=consultant_id, now=now
    )
    return open_slots(calendars, service.terms, window, now, patient_state)


async def _first_slots(
    conn: asyncpg.Connection,
    service: store.Service,
    window: Period,
    consultant_id: int | None,
    patient_state: str | None,
    now: datetime,
    limit: int,
) -> list[Slot]:
    """The first `limit` open slots of the window, chunk by chunk, soonest first.

    The chunks partition the window and the engine gives exactly the slots that start in the
    window it is handed, on a grid that does not depend on that window: so each slot comes from
    one chunk only, and the chunks' answers, one after the other, are the whole search's. Where
    a run of hours began before a chunk, the engine looks back through the weekly rules (all of
    them are loaded) and the extra hours; those of earlier chunks are carried forward, so it
    sees what one read from the first instant that can open would have shown it.
    """
    terms = service.terms
    # Nothing opens before the notice or after the horizon (its last instant included, as in
    # the engine): no chunk is spent there.
    start = max(window.start, now + terms.min_notice)
    end = min(window.end, now + terms.horizon + timedelta(microseconds=1))
    found: list[Slot] = []
    seen_extra: dict[int, dict[ExtraHours, None]] = {}
    size = FIRST_CHUNK
    while start < end and len(found) < limit:
        chunk = Period(start, min(start + size, end))
        calendars = await store.load_calendars(
            conn, service, chunk, consultant_id=consultant_id, now=now
        )
        if not calendars:
            break  # nobody offers the service: no later chunk will find anyone either
        calendars = [_with_earlier_extra(c, seen_extra) for c in calendars]
        found += open_slots(calendars, terms, chunk, now, patient_state)
        start, size = chunk.end, size * 2
    return found[:limit]


def _with_earlier_extra(
    calendar: ConsultantCalendar, seen: dict[int, dict[ExtraHours, None]]
) -> ConsultantCalendar:
    """The calendar with the extra hours earlier chunks read for the consultant (and remember
    this chunk's for the next)."""
    extra = seen.setdefault(calendar.consultant_id, {})
    extra.update(dict.fromkeys(calendar.extra_hours))
    if len(extra) == len(calendar.extra_hours):
        return calendar
    return replace(calendar, extra_hours=tuple(extra))


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
