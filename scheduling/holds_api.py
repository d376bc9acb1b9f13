"""Slot holds API: a clinic holds an open slot for a few minutes while it completes the booking
(POST /api/v1/bookings with `hold_id`). Expiry needs no job (scheduling/holds.py)."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import bookings, holds
from scheduling.hold_store import Hold
from scheduling.holds_schemas import HoldIn, HoldOut
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="holds")


def hold_out(h: Hold) -> HoldOut:
    """The API view of a hold."""
    return HoldOut(
        id=h.id,
        spoke_id=h.spoke_id,
        service_id=h.service_id,
        consultant_id=h.consultant_id,
        patient_id=h.patient_id,
        start=h.start,
        end=h.end,
        expires_at=h.expires_at,
        status=h.status,
        booking_id=h.booking_id,
        created_at=h.created_at,
    )


@api.operation(
    "POST",
    "/api/v1/holds",
    name="create_hold",
    summary="Hold an open slot for the clinic for a few minutes",
    scope="bookings:write",
    input=HoldIn,
    output=HoldOut,
    status=201,
    errors=(400, 409, 422),
    headers={"Idempotency-Key": "required"},
    location=at("/api/v1/holds/{id}"),
)
async def create_hold(request: web.Request, caller: Caller, body: HoldIn) -> web.Response:
    """201 held until `expires_at` (TELEHUB_HOLD_MINUTES); 409 booked or held by anyone;
    422 not an open slot, naming the field."""
    new = holds.NewHold(body.service_id, body.consultant_id, body.start, body.patient_id)
    minutes = request.app[SETTINGS].hold_minutes

    async def work(conn: asyncpg.Connection) -> HoldOut:
        held = await holds.hold(
            conn,
            bookings.spoke_of(caller),
            trail_of(request, caller),
            new,
            now=now_of(request),
            minutes=minutes,
        )
        return hold_out(held)

    return await idempotent(request, caller, body, work, status=201, key_required=True)


@api.operation(
    "GET",
    "/api/v1/holds/{id}",
    name="get_hold",
    summary="One of the clinic's holds",
    scope="bookings:read",
    input=NoInput,
    output=HoldOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_hold(request: web.Request, caller: Caller, _: NoInput) -> HoldOut:
    """Another clinic's hold answers 404; a lapsed one reads as expired."""
    async with unit_of_work(request) as conn:
        found = await holds.get(
            conn, caller, trail_of(request, caller), uuid_param(request, "id"), now=now_of(request)
        )
    return hold_out(found)


@api.operation(
    "DELETE",
    "/api/v1/holds/{id}",
    name="release_hold",
    summary="Let a held slot go",
    scope="bookings:write",
    input=NoInput,
    output=None,
    status=204,
    errors=(404, 409),
    path_params={"id": "uuid"},
)
async def release_hold(request: web.Request, caller: Caller, _: NoInput) -> web.Response:
    """204, also for a hold already released or expired (the slot is not held either way);
    409 for a hold that was booked (cancel the booking instead); another clinic's: 404."""
    async with unit_of_work(request) as conn:
        await holds.release(
            conn, caller, trail_of(request, caller), uuid_param(request, "id"), now=now_of(request)
        )
    return web.Response(status=204)
