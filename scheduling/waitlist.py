"""The 1:1 waitlist: a clinic asks to be told when an earlier time opens for a service.

A request names a service, optionally a consultant or a role, the patient's state and the
latest acceptable date. Every write that can open a consultant's time (a cancellation, a
reschedule away, new or extended hours) takes a `watch` of what is open for the waiting
requests before it writes and calls `tell` after, in the same transaction: a slot open after
and not before is new. Each matching request, oldest first, is told of its earliest new slot
(webhook `slot.opened` through the outbox, and its clinic's dashboard); nothing is booked.

A told request stays on the list (status `told`, with the slot) and is told again only of a
different slot: the time it was told of may be gone by the time the clinic looks. It leaves the
list when the clinic leaves it; once its latest date has passed nothing matches it any more.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

from consults import delivery_store
from hub import store as hub_store
from scheduling import store
from scheduling import waitlist_store as ws
from scheduling.slots import ConsultantCalendar, Period, Slot, open_slots
from scheduling.waitlist_store import WaitRequest
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import FieldError, Forbidden, NotFound, ValidationFailed

EVENT = "slot.opened"
BOOKABLE_KINDS = frozenset({"video_session", "case_review"})
MAX_AHEAD = timedelta(days=92)  # no service books further ahead than this


@dataclass(frozen=True, slots=True)
class Wanted:
    """What a clinic asks to be told of."""

    service_id: int
    consultant_id: int | None
    role: str | None
    patient_state: str
    latest_date: date
    patient_id: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Told:
    """A request told of a slot, and the outbox event that tells its clinic."""

    request: WaitRequest
    slot: Slot
    webhook_id: str


_Key = tuple[int, str]  # (service, patient state): one slot search answers all of them


@dataclass(frozen=True, slots=True)
class _Read:
    """What one (service, state)'s search read: the service, the window and the calendars."""

    service: store.Service
    window: Period
    calendars: list[ConsultantCalendar]


@dataclass(frozen=True, slots=True)
class Watch:
    """What was open for the waiting requests before a write that may open time."""

    consultant_ids: tuple[int, ...]
    requests: list[WaitRequest]
    before: dict[_Key, frozenset[Slot]]
    read: dict[_Key, _Read] = field(default_factory=dict)  # what `before` was found in


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


def _spoke(caller: Caller) -> int:
    if caller.spoke_id is None:
        raise Forbidden("only a spoke clinic keeps a waitlist")
    return caller.spoke_id


async def join(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, wanted: Wanted, *, now: datetime
) -> WaitRequest:
    """Put a request on the list; ValidationFailed naming the field that cannot be."""
    spoke_id = _spoke(caller)
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    if spoke is None:
        raise NotFound("no such spoke")
    service = await store.get_service(conn, wanted.service_id)
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    if service.kind not in BOOKABLE_KINDS:
        raise _invalid("service_id", "this service has no times to book")
    if wanted.consultant_id is not None:
        consultant = await hub_store.get_consultant(conn, wanted.consultant_id)
        if consultant is None or not consultant.active or service.id not in consultant.service_ids:
            raise _invalid("consultant_id", "no active consultant with this id offers this service")
    if wanted.role is not None:
        found = await hub_store.list_consultants(conn, service_id=service.id, role=wanted.role)
        if not found:
            raise _invalid("role", "no active consultant of this role offers this service")
    if wanted.latest_date < now.astimezone(spoke.zone).date():
        raise _invalid("latest_date", "is in the past")
    if wanted.patient_id is not None:
        patient = await spokes_store.get_patient(conn, spoke_id, wanted.patient_id)
        if patient is None:
            raise _invalid("patient_id", "no such patient at this clinic")
    added = await ws.insert(
        conn,
        spoke_id=spoke_id,
        patient_id=wanted.patient_id,
        service_id=service.id,
        consultant_id=wanted.consultant_id,
        role=wanted.role,
        patient_state=wanted.patient_state,
        latest_date=wanted.latest_date,
        created_by=trail.actor,
    )
    if added.patient_id is not None:
        await audit.record(conn, trail, "create", "slot_waitlist", [added.id], spoke_id)
    return added


async def mine(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, *, include_left: bool = False
) -> list[WaitRequest]:
    """The clinic's own requests, oldest first (a read of the patients they name is audited)."""
    spoke_id = _spoke(caller)
    found = await ws.of_spoke(conn, spoke_id, include_left=include_left)
    named = [r.id for r in found if r.patient_id is not None]
    await audit.record(conn, trail, "read", "slot_waitlist", named, spoke_id)
    return found


async def one(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, request_id: uuid.UUID
) -> WaitRequest:
    """One of the clinic's requests; NotFound for another clinic's."""
    spoke_id = _spoke(caller)
    found = await ws.get(conn, request_id, spoke_id)
    if found is None:
        raise NotFound("no such waitlist request")
    if found.patient_id is not None:
        await audit.record(conn, trail, "read", "slot_waitlist", [found.id], spoke_id)
    return found


async def leave(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, request_id: uuid.UUID, *, now: datetime
) -> WaitRequest:
    """Take one of the clinic's requests off the list (leaving twice changes nothing)."""
    spoke_id = _spoke(caller)
    found = await ws.get(conn, request_id, spoke_id, lock=True)
    if found is None:
        raise NotFound("no such waitlist request")
    if found.status == "left":
        return found
    left = await ws.leave(conn, request_id, now)
    await audit.record(conn, trail, "update", "slot_waitlist", [left.id], spoke_id)
    return left


def _last_moment(request: WaitRequest) -> datetime:
    """The end of the request's latest date, in its clinic's time zone."""
    return datetime.combine(request.latest_date + timedelta(days=1), time(), request.zone)


async def _open(
    conn: asyncpg.Connection,
    requests: Sequence[WaitRequest],
    consultant_ids: tuple[int, ...],
    now: datetime,
    read: dict[_Key, _Read] | None = None,
    known: Sequence[store.Service] = (),
) -> dict[_Key, frozenset[Slot]]:
    """The open slots of these consultants for each (service, state) the requests ask about
    (and, into `read`, what each search read); `known` services are not read again."""
    ends: dict[_Key, datetime] = {}
    for r in requests:
        key = (r.service_id, r.patient_state)
        ends[key] = max(ends.get(key, now), _last_moment(r))
    found: dict[_Key, frozenset[Slot]] = {}
    services: dict[int, store.Service | None] = {s.id: s for s in known}
    for (service_id, state), end in ends.items():
        if service_id not in services:
            services[service_id] = await store.get_service(conn, service_id)
        service = services[service_id]
        window = Period(now, min(end, now + MAX_AHEAD))
        if service is None or not service.active or window.end <= window.start:
            found[(service_id, state)] = frozenset()
            continue
        only = consultant_ids[0] if len(consultant_ids) == 1 else None
        calendars = [
            c
            for c in await store.load_calendars(conn, service, window, consultant_id=only, now=now)
            if c.consultant_id in consultant_ids
        ]
        found[(service_id, state)] = frozenset(
            open_slots(calendars, service.terms, window, now, state)
        )
        if read is not None:
            read[(service_id, state)] = _Read(service, window, calendars)
    return found


async def watch(
    conn: asyncpg.Connection,
    consultant_ids: Sequence[int],
    now: datetime,
    *,
    known: Sequence[store.Service] = (),
) -> Watch:
    """Before a write that may open these consultants' time: what is open for the waiting
    (`known`: services the caller read in this transaction already).

    The requests stay locked to commit, oldest first, so that concurrent openings tell each
    request of a slot once.
    """
    ids = tuple(sorted(set(consultant_ids)))
    since = (now - timedelta(days=1)).date()  # any zone's today is on or after this
    requests = await ws.open_for(conn, ids, since, lock=True) if ids else []
    read: dict[_Key, _Read] = {}
    before = await _open(conn, requests, ids, now, read, known) if requests else {}
    return Watch(ids, requests, before, read)


def _matches(request: WaitRequest, slot: Slot, roles: dict[int, str], now: datetime) -> bool:
    if request.consultant_id is not None and slot.consultant_id != request.consultant_id:
        return False
    if request.role is not None and roles.get(slot.consultant_id) != request.role:
        return False
    return now <= slot.start and slot.start.astimezone(request.zone).date() <= request.latest_date


async def tell(conn: asyncpg.Connection, seen: Watch, now: datetime) -> list[Told]:
    """After the write: tell each watched request, oldest first, of its earliest new slot."""
    if not seen.requests:
        return []
    after = await _open(conn, seen.requests, seen.consultant_ids, now)
    return await _tell(conn, seen, after, await ws.roles_of(conn, seen.consultant_ids), now)


async def tell_moved(
    conn: asyncpg.Connection,
    seen: Watch,
    now: datetime,
    *,
    consultant_id: int,
    freed: Period,
    taken: Period | None,
    role: str | None,
) -> list[Told]:
    """tell() after a write whose only change to the watched consultants' time is that
    `consultant_id` no longer holds `freed` and now holds `taken` (a booking moved away, or
    within their day): what is open after is found in what watch read, with that change, and
    not read again (the write took the consultants' time lock before watch, so nothing else
    changed it). `role` is the consultant's."""
    if not seen.requests:
        return []

    def changed(c: ConsultantCalendar, around: Period) -> ConsultantCalendar:
        if c.consultant_id != consultant_id:
            return c
        busy = list(c.busy)
        if freed in busy:
            busy.remove(freed)
        # As load_calendars reads busy time: what overlaps the search's window and margin.
        if taken is not None and taken.start < around.end and taken.end > around.start:
            busy.append(taken)
        return replace(c, busy=tuple(busy))

    after: dict[_Key, frozenset[Slot]] = {}
    for (service_id, state), read in seen.read.items():
        around = Period(read.window.start - timedelta(days=1), read.window.end + timedelta(days=1))
        calendars = [changed(c, around) for c in read.calendars]
        after[(service_id, state)] = frozenset(
            open_slots(calendars, read.service.terms, read.window, now, state)
        )
    roles = {consultant_id: role} if role is not None else {}
    return await _tell(conn, seen, after, roles, now)


async def _tell(
    conn: asyncpg.Connection,
    seen: Watch,
    after: dict[_Key, frozenset[Slot]],
    roles: dict[int, str],
    now: datetime,
) -> list[Told]:
    told: list[Told] = []
    for request in seen.requests:
        key = (request.service_id, request.patient_state)
        new = after.get(key, frozenset()) - seen.before.get(key, frozenset())
        fits = sorted(
            (s for s in new if _matches(request, s, roles, now)),
            key=lambda s: (s.start, s.consultant_id),
        )
        if not fits or fits[0] == request.told:
            continue
        slot = fits[0]
        await ws.mark_told(conn, request.id, slot, now)
        webhook_id = await delivery_store.enqueue(
            conn,
            spoke_id=request.spoke_id,
            event_type=EVENT,
            payload=slot_event(request, slot, now),
        )
        told.append(Told(request, slot, webhook_id))
    return told


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def slot_event(request: WaitRequest, slot: Slot, now: datetime) -> dict[str, Any]:
    """The `slot.opened` event for one clinic: the request and the slot, never a name."""
    return {
        "type": EVENT,
        "timestamp": _utc(now),
        "data": {
            "waitlist_id": str(request.id),
            "spoke_id": request.spoke_id,
            "patient_id": str(request.patient_id) if request.patient_id else None,
            "slot": {
                "service_id": slot.service_id,
                "consultant_id": slot.consultant_id,
                "start": _utc(slot.start),
                "end": _utc(slot.end),
            },
        },
    }
