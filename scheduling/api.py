"""Scheduling API: services, availability, slot search and bookings."""

from __future__ import annotations

import base64
import binascii
import uuid
from datetime import datetime

import asyncpg
from aiohttp import web
from pydantic import TypeAdapter

from scheduling import availability, bookings, hold_store, moves, services, store
from scheduling.booking_store import Booking
from scheduling.bookings import BookingFilter
from scheduling.schemas import (
    WEEKDAYS,
    AvailabilityIn,
    AvailabilityOut,
    BookingIn,
    BookingOut,
    BookingQuery,
    BookingsOut,
    CancelIn,
    ExceptionOut,
    OutcomeIn,
    RescheduleIn,
    RuleOut,
    ServiceIn,
    ServiceOut,
    ServicesOut,
    SlotQuery,
    SlotsOut,
)
from scheduling.slots import Period, Slot
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.db import reading
from telehub.errors import FieldError, NotFound, ValidationFailed
from telehub.idempotency import (
    Answer,
    Claim,
    idempotent,
    idempotent_fused,
    idempotent_fused_optional,
)
from telehub.keys import POOL, REPLICA, SETTINGS
from telehub.request import int_param, now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="scheduling")


def _service_out(s: store.Service) -> ServiceOut:
    return ServiceOut(
        id=s.id,
        kind=s.kind,
        name=s.name,
        duration_minutes=s.duration_minutes,
        buffer_before_minutes=s.buffer_before_minutes,
        buffer_after_minutes=s.buffer_after_minutes,
        interval_minutes=s.interval_minutes,
        min_notice_minutes=s.min_notice_minutes,
        horizon_days=s.horizon_days,
        turnaround_hours=s.turnaround_hours,
        roles=list(s.roles),
    )


@api.operation(
    "GET",
    "/api/v1/services",
    name="list_services",
    summary="List the hub's services",
    scope="services:read",
    input=NoInput,
    output=ServicesOut,
)
async def list_services(request: web.Request, caller: Caller, _: NoInput) -> ServicesOut:
    """Every active service."""
    async with unit_of_work(request) as conn:
        found = await store.list_services(conn)
    return ServicesOut(services=[_service_out(s) for s in found])


@api.operation(
    "POST",
    "/api/v1/services",
    name="create_service",
    summary="Create a service (hub admin)",
    scope="services:write",
    input=ServiceIn,
    output=ServiceOut,
    status=201,
    errors=(409, 422),
    location=at("/api/v1/services/{id}"),
)
async def create_service(request: web.Request, caller: Caller, body: ServiceIn) -> ServiceOut:
    """Add a service."""
    async with unit_of_work(request) as conn:
        created = await services.create(conn, **body.model_dump())
    return _service_out(created)


@api.operation(
    "GET",
    "/api/v1/services/{id}",
    name="get_service",
    summary="One service",
    scope="services:read",
    input=NoInput,
    output=ServiceOut,
    errors=(404,),
    path_params={"id": "integer"},
)
async def get_service(request: web.Request, caller: Caller, _: NoInput) -> ServiceOut:
    """A service, active or not (bookings keep pointing at retired ones)."""
    async with unit_of_work(request) as conn:
        found = await store.get_service(conn, int_param(request, "id"))
    if found is None:
        raise NotFound("no such service")
    return _service_out(found)


@api.operation(
    "GET",
    "/api/v1/slots",
    name="search_slots",
    summary="Open slots of one service across consultants",
    scope="slots:read",
    input=SlotQuery,
    output=SlotsOut,
    errors=(422,),
)
async def search_slots(request: web.Request, caller: Caller, query: SlotQuery) -> web.Response:
    """Open slots, in UTC, for the window; book one with POST /api/v1/bookings."""
    # The replica may be a few seconds behind: a slot it still shows is refused at booking,
    # which checks on the primary.
    app = request.app
    async with reading(app[POOL], app.get(REPLICA), app[SETTINGS].db_acquire_timeout) as conn:
        found = await availability.search(
            conn,
            service_id=query.service_id,
            window=Period(query.start, query.end),
            consultant_id=query.consultant_id,
            patient_state=query.patient_state,
            now=now_of(request),
            limit=query.limit,
        )
    # The engine's slots (UTC, the same fields as SlotOut) are written by pydantic-core
    # directly: four times faster than building a SlotOut per slot for a month's search.
    body = b'{"slots":' + _SLOTS.dump_json(found) + b"}"
    return web.Response(body=body, content_type="application/json")


_SLOTS = TypeAdapter(list[Slot])


def _availability_out(
    consultant_id: int,
    timezone: str,
    rules: list[store.RuleRow],
    exceptions: list[store.ExceptionRow],
    *,
    hub: bool,
) -> AvailabilityOut:
    """Hours and exceptions; an exception's note is the hub's own, so a clinic gets null."""
    return AvailabilityOut(
        consultant_id=consultant_id,
        timezone=timezone,
        rules=[
            RuleOut(
                weekday=WEEKDAYS[r.weekday],
                start=r.start_time,
                end=r.end_time,
                service_ids=list(r.service_ids) if r.service_ids is not None else None,
                valid_from=r.valid_from,
                valid_until=r.valid_until,
            )
            for r in rules
        ],
        exceptions=[
            ExceptionOut(
                kind=e.kind,
                start=e.start,
                end=e.end,
                service_ids=list(e.service_ids) if e.service_ids is not None else None,
                note=e.note if hub else None,
            )
            for e in exceptions
        ],
    )


@api.operation(
    "PUT",
    "/api/v1/consultants/{id}/availability",
    name="put_availability",
    summary="Replace a consultant's weekly hours and exceptions",
    scope="availability:write",
    input=AvailabilityIn,
    output=AvailabilityOut,
    errors=(404, 422),
    path_params={"id": "integer"},
)
async def put_availability(
    request: web.Request, caller: Caller, body: AvailabilityIn
) -> AvailabilityOut:
    """Publish hours in the consultant's own time zone; exceptions are absolute."""
    consultant_id = int_param(request, "id")
    rules, exceptions = body.rows()
    async with unit_of_work(request) as conn:
        consultant = await availability.publish(
            conn, caller, consultant_id, rules, exceptions, now=now_of(request)
        )
        saved = await store.get_availability(conn, consultant_id)
    return _availability_out(
        consultant.id, consultant.timezone, *saved, hub=caller.spoke_id is None
    )


@api.operation(
    "GET",
    "/api/v1/consultants/{id}/availability",
    name="get_availability",
    summary="A consultant's weekly hours and exceptions",
    scope="consultants:read",
    input=NoInput,
    output=AvailabilityOut,
    errors=(404,),
    path_params={"id": "integer"},
)
async def get_availability(request: web.Request, caller: Caller, _: NoInput) -> AvailabilityOut:
    """Published hours, rules in the consultant's zone."""
    consultant_id = int_param(request, "id")
    async with unit_of_work(request) as conn:
        consultant, rules, exceptions = await availability.hours_of(conn, consultant_id)
    return _availability_out(
        consultant_id, consultant.timezone, rules, exceptions, hub=caller.spoke_id is None
    )


def booking_out(b: Booking) -> BookingOut:
    """The API view of a booking."""
    return BookingOut(
        id=b.id,
        service_id=b.service_id,
        consultant_id=b.consultant_id,
        spoke_id=b.spoke_id,
        patient_id=b.patient_id,
        start=b.start,
        end=b.end,
        status=b.status,
        reason=b.reason,
        video_link=b.video_link,
        sequence=b.sequence,
        created_at=b.created_at,
        updated_at=b.updated_at,
        cancelled_at=b.cancelled_at,
        cancel_reason=b.cancel_reason,
        series_id=b.series_id,
        series_position=b.series_position,
    )


@api.operation(
    "POST",
    "/api/v1/bookings",
    name="create_booking",
    summary="Book an open slot for one of the clinic's patients",
    scope="bookings:write",
    input=BookingIn,
    output=BookingOut,
    status=201,
    errors=(400, 409, 422),
    headers={"Idempotency-Key": "required"},
    location=at("/api/v1/bookings/{id}"),
)
async def create_booking(request: web.Request, caller: Caller, body: BookingIn) -> web.Response:
    """201 booked; 409 taken by someone else (or the hold expired or ended); 404 no such hold
    of this clinic; 422 not an open slot, or a field that is not the hold's."""
    settings = request.app[SETTINGS]
    if body.hold_id is None:
        return await _book_at_once(request, caller, body)

    async def work(conn: asyncpg.Connection) -> BookingOut:
        spoke_id = bookings.spoke_of(caller)
        assert body.hold_id is not None
        # The hold's slot for what the body leaves out; book() checks what it gives.
        held = await hold_store.get_hold(conn, body.hold_id, spoke_id=spoke_id)
        if held is None:
            raise NotFound("no such hold")
        new = bookings.NewBooking(
            body.service_id or held.service_id,
            body.consultant_id or held.consultant_id,
            body.patient_id,
            body.start or held.start,
            body.reason,
        )
        booked = await bookings.book(
            conn,
            spoke_id,
            trail_of(request, caller),
            new,
            now=now_of(request),
            video_url_template=settings.video_url_template,
            hold_id=body.hold_id,
        )
        return booking_out(booked)

    return await idempotent(request, caller, body, work, status=201, key_required=True)


async def _book_at_once(request: web.Request, caller: Caller, body: BookingIn) -> web.Response:
    """A booking of an open slot (no hold) in four round trips (bookings.book_at_once)."""
    assert body.service_id and body.consultant_id and body.start  # the model says so
    new = bookings.NewBooking(
        body.service_id, body.consultant_id, body.patient_id, body.start, body.reason
    )
    now = now_of(request)
    template = request.app[SETTINGS].video_url_template

    async def work(conn: asyncpg.Connection, claim: Claim) -> tuple[Answer, bool]:
        return await bookings.book_at_once(
            conn,
            bookings.spoke_of(caller),
            trail_of(request, caller),
            new,
            claim,
            now=now,
            video_url_template=template,
            answer=lambda booked: booking_out(booked).model_dump_json(),
        )

    return await idempotent_fused(
        request, caller, body, work, first=bookings.first_statements(new, now)
    )


@api.operation(
    "POST",
    "/api/v1/bookings/{id}/reschedule",
    name="reschedule_booking",
    summary="Move a booking to another open slot (atomically)",
    scope="bookings:write",
    input=RescheduleIn,
    output=BookingOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
)
async def reschedule_booking(
    request: web.Request, caller: Caller, body: RescheduleIn
) -> web.Response:
    """The old time is released only if the new one is taken. Four round trips
    (moves.reschedule_at_once)."""
    move = moves.Move(uuid_param(request, "id"), body.start, body.consultant_id or None)
    now = now_of(request)

    async def work(conn: asyncpg.Connection, claim: Claim | None) -> tuple[Answer, bool]:
        return await moves.reschedule_at_once(
            conn,
            caller,
            trail_of(request, caller),
            move,
            claim,
            now=now,
            answer=lambda moved: booking_out(moved).model_dump_json(),
        )

    return await idempotent_fused_optional(
        request, caller, body, work, first=moves.move_first_statements(caller, move, now)
    )


@api.operation(
    "POST",
    "/api/v1/bookings/{id}/cancel",
    name="cancel_booking",
    summary="Cancel a booking (kept, with the reason)",
    scope="bookings:write",
    input=CancelIn,
    output=BookingOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
)
async def cancel_booking(request: web.Request, caller: Caller, body: CancelIn) -> web.Response:
    """Cancel; the time opens again for others."""
    booking_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> BookingOut:
        cancelled = await bookings.cancel(
            conn,
            caller,
            trail_of(request, caller),
            booking_id,
            reason=body.reason,
            now=now_of(request),
        )
        return booking_out(cancelled)

    return await idempotent(request, caller, body, work, status=200, key_required=False)


@api.operation(
    "POST",
    "/api/v1/bookings/{id}/outcome",
    name="record_booking_outcome",
    summary="Record that a session took place, or was a no-show (hub)",
    scope="bookings:outcome",
    input=OutcomeIn,
    output=BookingOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
)
async def record_outcome(request: web.Request, caller: Caller, body: OutcomeIn) -> BookingOut:
    """Completed or no-show, once the session has begun."""
    async with unit_of_work(request) as conn:
        done = await bookings.record_outcome(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            outcome=body.outcome,
            now=now_of(request),
        )
    return booking_out(done)


@api.operation(
    "GET",
    "/api/v1/bookings/{id}",
    name="get_booking",
    summary="One booking",
    scope="bookings:read",
    input=NoInput,
    output=BookingOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_booking(request: web.Request, caller: Caller, _: NoInput) -> BookingOut:
    """A booking of the caller's clinic (another clinic's answers 404)."""
    booking_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        found = await bookings.get(conn, caller, trail_of(request, caller), booking_id)
    return booking_out(found)


def _cursor(b: Booking) -> str:
    return base64.urlsafe_b64encode(f"{b.start.isoformat()}|{b.id}".encode()).decode()


def _after(cursor: str | None) -> tuple[datetime, uuid.UUID] | None:
    if cursor is None:
        return None
    try:
        start, _, booking_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        after = datetime.fromisoformat(start)
        # A hand-made cursor may hold any year; only the years the API accepts reach SQL.
        if after.tzinfo is None or not 1900 <= after.year <= 2200:
            raise ValueError("out of range")
        return after, uuid.UUID(booking_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise ValidationFailed(
            "cursor: not a cursor this API gave", errors=[FieldError("cursor", "is not valid")]
        ) from None


@api.operation(
    "GET",
    "/api/v1/bookings",
    name="list_bookings",
    summary="The caller's bookings",
    scope="bookings:read",
    input=BookingQuery,
    output=BookingsOut,
    errors=(422,),
)
async def list_bookings(request: web.Request, caller: Caller, query: BookingQuery) -> BookingsOut:
    """Bookings by start time; follow next_cursor for more."""
    async with unit_of_work(request) as conn:
        which = BookingFilter(
            start=query.start,
            end=query.end,
            status=query.status,
            patient_id=query.patient_id,
            consultant_id=query.consultant_id,
            after=_after(query.cursor),
            limit=query.limit,
        )
        found = await bookings.find(conn, caller, trail_of(request, caller), which)
    more = len(found) == query.limit
    return BookingsOut(
        bookings=[booking_out(b) for b in found],
        next_cursor=_cursor(found[-1]) if more and found else None,
    )
