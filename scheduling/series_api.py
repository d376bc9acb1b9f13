"""Series API: book a course of sessions all or none, read it, cancel it from a session on."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import series
from scheduling.api import booking_out
from scheduling.series import Series
from scheduling.series_schemas import (
    CancelFromIn,
    SeriesIn,
    SeriesListOut,
    SeriesOut,
    SeriesQuery,
)
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import Answer, Claim, idempotent, idempotent_fused
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="series")


def series_out(s: Series) -> SeriesOut:
    """The API view of a series and its sessions."""
    return SeriesOut(
        id=s.id,
        spoke_id=s.spoke_id,
        patient_id=s.patient_id,
        service_id=s.service_id,
        consultant_id=s.consultant_id,
        repeat=s.repeat,
        count=s.count,
        first_start=s.first_start,
        zone=s.zone,
        reason=s.reason,
        created_at=s.created_at,
        bookings=[booking_out(b) for b in s.bookings],
    )


@api.operation(
    "POST",
    "/api/v1/series",
    name="create_series",
    summary="Book a course of sessions for one of the clinic's patients: all or none",
    scope="bookings:write",
    input=SeriesIn,
    output=SeriesOut,
    status=201,
    errors=(400, 409, 422),
    headers={"Idempotency-Key": "required"},
    location=at("/api/v1/series/{id}"),
)
async def create_series(request: web.Request, caller: Caller, body: SeriesIn) -> web.Response:
    """201 every session booked; 409 series-conflict (nothing booked) lists the sessions not
    open with alternatives, to resend with overrides; 422 a field, or a first start not open."""
    now = now_of(request)
    template = request.app[SETTINGS].video_url_template

    async def work(conn: asyncpg.Connection, claim: Claim) -> tuple[Answer, bool]:
        return await series.book_at_once(
            conn,
            caller,
            trail_of(request, caller),
            body,
            claim,
            now=now,
            video_url_template=template,
            answer=lambda booked: series_out(booked).model_dump_json(),
        )

    return await idempotent_fused(
        request, caller, body, work, first=series.first_statements(body, now)
    )


@api.operation(
    "GET",
    "/api/v1/series/{id}",
    name="get_series",
    summary="One course of sessions, with every session",
    scope="bookings:read",
    input=NoInput,
    output=SeriesOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_series(request: web.Request, caller: Caller, _: NoInput) -> SeriesOut:
    """A series of the caller's clinic (another clinic's answers 404)."""
    async with unit_of_work(request) as conn:
        found = await series.get(conn, caller, trail_of(request, caller), uuid_param(request, "id"))
    return series_out(found)


@api.operation(
    "GET",
    "/api/v1/series",
    name="list_series",
    summary="A patient's courses of sessions, newest first",
    scope="bookings:read",
    input=SeriesQuery,
    output=SeriesListOut,
    errors=(422,),
)
async def list_series(request: web.Request, caller: Caller, query: SeriesQuery) -> SeriesListOut:
    """Every series of the patient the caller may see."""
    async with unit_of_work(request) as conn:
        found = await series.for_patient(conn, caller, trail_of(request, caller), query.patient_id)
    return SeriesListOut(series=[series_out(s) for s in found])


@api.operation(
    "POST",
    "/api/v1/series/{id}/cancel",
    name="cancel_series",
    summary="Cancel a session of a series and every later one (earlier ones are kept)",
    scope="bookings:write",
    input=CancelFromIn,
    output=SeriesOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
)
async def cancel_series(request: web.Request, caller: Caller, body: CancelFromIn) -> web.Response:
    """Each session from `from` on that is still booked is cancelled as a single booking is."""
    series_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> SeriesOut:
        kept = await series.cancel_from(
            conn,
            caller,
            trail_of(request, caller),
            series_id,
            body.from_,
            body.reason,
            now_of(request),
        )
        return series_out(kept)

    return await idempotent(request, caller, body, work, status=200, key_required=False)
