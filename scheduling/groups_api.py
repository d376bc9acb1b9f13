"""Groups API: the hub makes a group and cancels it from an occurrence on; clinics find groups
with open seats and read one (their own patients' seats only)."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import groups
from scheduling.groups import Group
from scheduling.groups_schemas import (
    GroupCancelIn,
    GroupIn,
    GroupOut,
    GroupQuery,
    GroupsOut,
    OccurrenceOut,
    SeatOut,
)
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="groups")


def group_out(g: Group) -> GroupOut:
    """The API view of a group: the seats in it are those the caller may see."""
    return GroupOut(
        id=g.id,
        service_id=g.service_id,
        consultant_id=g.consultant_id,
        title=g.title,
        capacity=g.capacity,
        repeat=g.repeat,
        count=g.count,
        first_start=g.first_start,
        zone=g.zone,
        created_at=g.created_at,
        occurrences=[
            OccurrenceOut(
                position=o.position,
                start=o.start,
                end=o.end,
                status=o.status,
                seats_taken=o.seats_taken,
                capacity=o.capacity,
                roster=[
                    SeatOut(
                        id=s.id,
                        spoke_id=s.spoke_id,
                        patient_id=s.patient_id,
                        seat_no=s.seat_no,
                        attendance=s.attendance,
                    )
                    for s in o.seats
                ],
            )
            for o in g.occurrences
        ],
    )


@api.operation(
    "POST",
    "/api/v1/groups",
    name="create_group",
    summary="Make a group: hold the counselor's time for every occurrence (the hub)",
    scope="groups:write",
    input=GroupIn,
    output=GroupOut,
    status=201,
    errors=(400, 403, 409, 422),
    headers={"Idempotency-Key": "required"},
    location=at("/api/v1/groups/{id}"),
)
async def create_group(request: web.Request, caller: Caller, body: GroupIn) -> web.Response:
    """201 with every occurrence; 409 group-time-taken lists the occurrences that land on a
    booking or another group (nothing made); 422 a field."""
    settings = request.app[SETTINGS]

    async def work(conn: asyncpg.Connection) -> GroupOut:
        made = await groups.create(
            conn,
            caller,
            trail_of(request, caller),
            body,
            now_of(request),
            video_url_template=settings.video_url_template,
        )
        return group_out(made)

    return await idempotent(request, caller, body, work, status=201, key_required=True)


@api.operation(
    "GET",
    "/api/v1/groups/{id}",
    name="get_group",
    summary="One group and its occurrences (a clinic sees only its own patients' seats)",
    scope="bookings:read",
    input=NoInput,
    output=GroupOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_group(request: web.Request, caller: Caller, _: NoInput) -> GroupOut:
    """Seats taken for everyone; the roster for the hub and the counselor, a clinic's own."""
    async with unit_of_work(request) as conn:
        found = await groups.get(conn, caller, trail_of(request, caller), uuid_param(request, "id"))
    return group_out(found)


@api.operation(
    "GET",
    "/api/v1/groups",
    name="find_groups",
    summary="Groups of a service with an open seat, whose counselor is licensed where the "
    "patient is",
    scope="bookings:read",
    input=GroupQuery,
    output=GroupsOut,
    errors=(422,),
)
async def find_groups(request: web.Request, caller: Caller, query: GroupQuery) -> GroupsOut:
    """Groups with a free seat in an occurrence starting between start and end, from now."""
    async with unit_of_work(request) as conn:
        found = await groups.find_open(
            conn,
            caller,
            trail_of(request, caller),
            query.service_id,
            query.start,
            query.end,
            query.patient_state,
            now=now_of(request),
        )
    return GroupsOut(groups=[group_out(g) for g in found])


@api.operation(
    "POST",
    "/api/v1/groups/{id}/cancel",
    name="cancel_group",
    summary="Cancel an occurrence of a group and every later one (earlier ones are kept)",
    scope="groups:write",
    input=GroupCancelIn,
    output=GroupOut,
    errors=(403, 404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
)
async def cancel_group(request: web.Request, caller: Caller, body: GroupCancelIn) -> web.Response:
    """Occurrences from `from` on are cancelled, their seats released, the time freed."""
    group_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> GroupOut:
        kept = await groups.cancel_from(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            body.from_,
            body.reason,
            now_of(request),
        )
        return group_out(kept)

    return await idempotent(request, caller, body, work, status=200, key_required=False)
