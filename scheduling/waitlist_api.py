"""1:1 waitlist API: a clinic asks to be told (webhook `slot.opened`) when an earlier time opens."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import waitlist
from scheduling.schemas import SlotOut
from scheduling.waitlist import Wanted
from scheduling.waitlist_schemas import WaitlistIn, WaitlistListOut, WaitlistOut, WaitlistQuery
from scheduling.waitlist_store import WaitRequest
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="waitlist")


def waitlist_out(r: WaitRequest) -> WaitlistOut:
    """The API view of a waitlist request."""
    told = r.told
    return WaitlistOut(
        id=r.id,
        spoke_id=r.spoke_id,
        patient_id=r.patient_id,
        service_id=r.service_id,
        consultant_id=r.consultant_id,
        role=r.role,
        patient_state=r.patient_state,
        latest_date=r.latest_date,
        status=r.status,
        told=(
            SlotOut(
                consultant_id=told.consultant_id,
                service_id=told.service_id,
                start=told.start,
                end=told.end,
            )
            if told
            else None
        ),
        told_at=r.told_at,
        created_at=r.created_at,
        settled_at=r.settled_at,
    )


@api.operation(
    "POST",
    "/api/v1/waitlist",
    name="join_waitlist",
    summary="Ask to be told (webhook slot.opened) when a time of a service opens earlier",
    scope="bookings:write",
    input=WaitlistIn,
    output=WaitlistOut,
    status=201,
    errors=(400, 422),
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/waitlist/{id}"),
)
async def join_waitlist(request: web.Request, caller: Caller, body: WaitlistIn) -> web.Response:
    """201; 422 naming the field (an unknown service, a latest date past, both a consultant and
    a role). Nothing is ever booked from the list: the clinic books the time it is told of."""

    async def work(conn: asyncpg.Connection) -> WaitlistOut:
        joined = await waitlist.join(
            conn,
            caller,
            trail_of(request, caller),
            Wanted(
                service_id=body.service_id,
                consultant_id=body.consultant_id,
                role=body.role,
                patient_state=body.patient_state,
                latest_date=body.latest_date,
                patient_id=body.patient_id,
            ),
            now=now_of(request),
        )
        return waitlist_out(joined)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/waitlist",
    name="list_waitlist",
    summary="The clinic's own waitlist requests, oldest first",
    scope="bookings:read",
    input=WaitlistQuery,
    output=WaitlistListOut,
    errors=(422,),
)
async def list_waitlist(
    request: web.Request, caller: Caller, query: WaitlistQuery
) -> WaitlistListOut:
    """Only the caller's clinic's requests, ever."""
    async with unit_of_work(request) as conn:
        found = await waitlist.mine(
            conn, caller, trail_of(request, caller), include_left=query.include_left
        )
    return WaitlistListOut(requests=[waitlist_out(r) for r in found])


@api.operation(
    "GET",
    "/api/v1/waitlist/{id}",
    name="get_waitlist_request",
    summary="One of the clinic's waitlist requests",
    scope="bookings:read",
    input=NoInput,
    output=WaitlistOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_waitlist_request(request: web.Request, caller: Caller, _: NoInput) -> WaitlistOut:
    """Another clinic's request answers 404."""
    async with unit_of_work(request) as conn:
        found = await waitlist.one(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    return waitlist_out(found)


@api.operation(
    "POST",
    "/api/v1/waitlist/{id}/leave",
    name="leave_waitlist",
    summary="Take a request off the clinic's waitlist",
    scope="bookings:write",
    input=NoInput,
    output=WaitlistOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def leave_waitlist(request: web.Request, caller: Caller, _: NoInput) -> WaitlistOut:
    """Leaving twice answers the same; another clinic's request answers 404."""
    async with unit_of_work(request) as conn:
        left = await waitlist.leave(
            conn, caller, trail_of(request, caller), uuid_param(request, "id"), now=now_of(request)
        )
    return waitlist_out(left)
