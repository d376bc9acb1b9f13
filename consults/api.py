"""Consults API: e-consults, their clarification thread, and the recommended visit."""

from __future__ import annotations

from datetime import date
from typing import Any

import asyncpg
from aiohttp import web

from consults import econsults, store
from consults.schemas import (
    AssignIn,
    EconsultIn,
    EconsultOut,
    EconsultQuery,
    EconsultsOut,
    HolidayOut,
    HolidaysIn,
    HolidaysOut,
    MessageIn,
    MessageOut,
    MessagesOut,
    VisitIn,
)
from consults.store import Econsult, Message
from scheduling.api import booking_out
from scheduling.schemas import BookingOut
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.errors import Forbidden
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="consults")
ID = {"id": "uuid"}


def econsult_out(e: Econsult) -> EconsultOut:
    """The API view of an e-consult."""
    return EconsultOut(
        id=e.id,
        spoke_id=e.spoke_id,
        patient_id=e.patient_id,
        service_id=e.service_id,
        referring_clinician=e.referring_clinician,
        question=e.question,
        clinical_context=e.clinical_context,
        urgency=e.urgency,
        status=e.status,
        consultant_id=e.consultant_id,
        booking_id=e.booking_id,
        submitted_at=e.submitted_at,
        due_at=e.due_at,
        paused_at=e.paused_at,
        answered_at=e.answered_at,
        closed_at=e.closed_at,
        visit_booking_id=e.visit_booking_id,
    )


def _thread(request: web.Request, body: dict[str, Any]) -> str:
    """A message has no address of its own: it lives in its e-consult's thread."""
    return f"/api/v1/econsults/{request.match_info['id']}/messages"


def message_out(m: Message) -> MessageOut:
    """The API view of a thread message."""
    return MessageOut(
        id=m.id,
        side=m.side,
        author=m.author,
        body=m.body,
        asks_clinic=m.asks_clinic,
        created_at=m.created_at,
    )


@api.operation(
    "POST",
    "/api/v1/econsults",
    name="create_econsult",
    summary="Ask the hub: queued with a due-by time, or booked into a review slot",
    scope="econsults:write",
    input=EconsultIn,
    output=EconsultOut,
    status=201,
    errors=(400, 409, 422),
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/econsults/{id}"),
)
async def create_econsult(request: web.Request, caller: Caller, body: EconsultIn) -> web.Response:
    """Submit an e-consult for one of the clinic's patients."""
    settings = request.app[SETTINGS]
    new = econsults.NewEconsult(
        patient_id=body.patient_id,
        service_id=body.service_id,
        referring_clinician=body.referring_clinician,
        question=body.question,
        clinical_context=body.clinical_context.model_dump(mode="json"),
        urgency=body.urgency,
        review_consultant_id=body.review.consultant_id if body.review else None,
        review_start=body.review.start if body.review else None,
    )

    async def work(conn: asyncpg.Connection) -> EconsultOut:
        created = await econsults.submit(
            conn, caller, trail_of(request, caller), new, settings=settings, now=now_of(request)
        )
        return econsult_out(created)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/econsults",
    name="list_econsults",
    summary="E-consults, soonest due first (the hub's worklist, or the clinic's own)",
    scope="econsults:read",
    input=EconsultQuery,
    output=EconsultsOut,
    errors=(422,),
)
async def list_econsults(
    request: web.Request, caller: Caller, query: EconsultQuery
) -> EconsultsOut:
    """The caller's e-consults; `overdue=true` keeps open ones past due."""
    async with unit_of_work(request) as conn:
        found = await econsults.find(
            conn,
            caller,
            trail_of(request, caller),
            status=query.status,
            overdue_at=now_of(request) if query.overdue else None,
            limit=query.limit,
        )
    return EconsultsOut(econsults=[econsult_out(e) for e in found])


@api.operation(
    "GET",
    "/api/v1/econsults/{id}",
    name="get_econsult",
    summary="One e-consult",
    scope="econsults:read",
    input=NoInput,
    output=EconsultOut,
    errors=(404,),
    path_params=ID,
)
async def get_econsult(request: web.Request, caller: Caller, _: NoInput) -> EconsultOut:
    """An e-consult the caller may see (another clinic's answers 404)."""
    async with unit_of_work(request) as conn:
        found = await econsults.get(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    return econsult_out(found)


@api.operation(
    "POST",
    "/api/v1/econsults/{id}/assign",
    name="assign_econsult",
    summary="Assign a consultant (hub), or the least-loaded eligible one",
    scope="econsults:write",
    input=AssignIn,
    output=EconsultOut,
    errors=(404, 409, 422),
    path_params=ID,
)
async def assign_econsult(request: web.Request, caller: Caller, body: AssignIn) -> EconsultOut:
    """Assign an e-consult."""
    async with unit_of_work(request) as conn:
        assigned = await econsults.assign(
            conn, caller, trail_of(request, caller), uuid_param(request, "id"), body.consultant_id
        )
    return econsult_out(assigned)


@api.operation(
    "GET",
    "/api/v1/econsults/{id}/messages",
    name="list_econsult_messages",
    summary="The clarification thread",
    scope="econsults:read",
    input=NoInput,
    output=MessagesOut,
    errors=(404,),
    path_params=ID,
)
async def list_messages(request: web.Request, caller: Caller, _: NoInput) -> MessagesOut:
    """Messages between the hub and the clinic, oldest first."""
    async with unit_of_work(request) as conn:
        _econsult, found = await econsults.case(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    return MessagesOut(messages=[message_out(m) for m in found])


@api.operation(
    "POST",
    "/api/v1/econsults/{id}/messages",
    name="post_econsult_message",
    summary="Ask or answer in the clarification thread (a hub question pauses the clock)",
    scope="econsults:write",
    input=MessageIn,
    output=MessageOut,
    status=201,
    errors=(404, 409, 422),
    path_params=ID,
    location=_thread,
)
async def post_message(request: web.Request, caller: Caller, body: MessageIn) -> MessageOut:
    """Add a message to the thread."""
    async with unit_of_work(request) as conn:
        posted = await econsults.post_message(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            body=body.body,
            asks_clinic=body.asks_clinic,
            settings=request.app[SETTINGS],
            now=now_of(request),
        )
    return message_out(posted)


@api.operation(
    "POST",
    "/api/v1/econsults/{id}/visit",
    name="book_recommended_visit",
    summary="Book the video session an answered e-consult recommends, in one step",
    scope="bookings:write",
    input=VisitIn,
    output=BookingOut,
    status=201,
    errors=(404, 409, 422),
    path_params=ID,
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/bookings/{id}"),
)
async def book_visit(request: web.Request, caller: Caller, body: VisitIn) -> web.Response:
    """Turn the e-consult into a booked video session for the same patient."""
    econsult_id = uuid_param(request, "id")
    template = request.app[SETTINGS].video_url_template

    async def work(conn: asyncpg.Connection) -> BookingOut:
        booked = await econsults.book_visit(
            conn,
            caller,
            trail_of(request, caller),
            econsult_id,
            service_id=body.service_id,
            consultant_id=body.consultant_id,
            start=body.start,
            now=now_of(request),
            video_url_template=template,
        )
        return booking_out(booked)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


def _holidays_out(days: list[tuple[date, str]]) -> HolidaysOut:
    return HolidaysOut(holidays=[HolidayOut(day=d, name=n) for d, n in days])


@api.operation(
    "GET",
    "/api/v1/hub/holidays",
    name="list_holidays",
    summary="The hub's holidays (the e-consult clock stops on them)",
    scope="econsults:read",
    input=NoInput,
    output=HolidaysOut,
)
async def list_holidays(request: web.Request, caller: Caller, _: NoInput) -> HolidaysOut:
    """Local dates the hub is closed."""
    async with unit_of_work(request) as conn:
        return _holidays_out(await store.list_holidays(conn))


@api.operation(
    "PUT",
    "/api/v1/hub/holidays",
    name="replace_holidays",
    summary="Replace the hub's holidays (hub admin)",
    scope="econsults:write",
    input=HolidaysIn,
    output=HolidaysOut,
    errors=(422,),
)
async def replace_holidays(request: web.Request, caller: Caller, body: HolidaysIn) -> HolidaysOut:
    """New due-by times count them; e-consults already queued keep theirs."""
    if not caller.is_hub_admin:
        raise Forbidden("the hub sets its holidays")
    days = [(h.day, h.name) for h in body.holidays]
    async with unit_of_work(request) as conn:
        await store.replace_holidays(conn, days)
        return _holidays_out(await store.list_holidays(conn))
