"""Group seats API: a clinic enrols its patients (all or none), withdraws or excuses them, and
joins or leaves a full group's waitlist."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import group_seats
from scheduling.group_seats import Enrolment, Waiting
from scheduling.group_seats_schemas import (
    EnrolIn,
    EnrolmentOut,
    ExcuseIn,
    SeatOut,
    WaitIn,
    WaitOut,
    WithdrawIn,
)
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import Answer, Claim, idempotent, idempotent_fused
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="groups")

_GROUP = {"id": "uuid"}
_ENROLMENT = {"id": "uuid", "enrolment_id": "uuid"}
_WAITING = {"id": "uuid", "waitlist_id": "uuid"}


def enrolment_out(e: Enrolment) -> EnrolmentOut:
    """The API view of an enrolment and its seats."""
    return EnrolmentOut(
        id=e.id,
        group_id=e.group_id,
        patient_id=e.patient_id,
        from_position=e.from_position,
        withdrawn_from=e.withdrawn_from,
        created_at=e.created_at,
        seats=[
            SeatOut(
                position=s.position,
                start=s.start,
                end=s.end,
                seat_no=s.seat_no,
                attendance=s.attendance,
            )
            for s in e.seats
        ],
    )


def wait_out(w: Waiting) -> WaitOut:
    """The API view of a waitlist place."""
    return WaitOut(
        id=w.id,
        group_id=w.group_id,
        patient_id=w.patient_id,
        status=w.status,
        place=w.place,
        enrolment_id=w.enrolment_id,
        created_at=w.created_at,
    )


@api.operation(
    "POST",
    "/api/v1/groups/{id}/seats",
    name="enrol_in_group",
    summary="A seat for one of the clinic's patients in every remaining occurrence: all or none",
    scope="bookings:write",
    input=EnrolIn,
    output=EnrolmentOut,
    status=201,
    errors=(400, 404, 409, 422),
    path_params=_GROUP,
    headers={"Idempotency-Key": "required"},
    location=at("/api/v1/groups/{group_id}/seats/{id}"),
)
async def enrol_in_group(request: web.Request, caller: Caller, body: EnrolIn) -> web.Response:
    """201 a seat in each occurrence from `from` on; 409 group-full names the occurrences with
    no seat left (nothing enrolled); 404 another clinic's patient; 422 a field, or a counselor
    not licensed in the patient's state (patient_id)."""
    group_id = uuid_param(request, "id")
    now = now_of(request)

    # Four round trips (group_seats.enrol_at_once): BEGIN with the key's claim and the group's
    # lock, one read, one write, COMMIT.
    async def work(conn: asyncpg.Connection, claim: Claim) -> tuple[Answer, bool]:
        return await group_seats.enrol_at_once(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            body.patient_id,
            body.from_,
            claim,
            now=now,
            answer=lambda enrolled: enrolment_out(enrolled).model_dump_json(),
        )

    return await idempotent_fused(
        request, caller, body, work, first=group_seats.enrol_first_statements(group_id)
    )


@api.operation(
    "GET",
    "/api/v1/groups/{id}/seats/{enrolment_id}",
    name="get_group_enrolment",
    summary="One of the clinic's enrolments in a group, with its seats",
    scope="bookings:read",
    input=NoInput,
    output=EnrolmentOut,
    errors=(404,),
    path_params=_ENROLMENT,
)
async def get_group_enrolment(request: web.Request, caller: Caller, _: NoInput) -> EnrolmentOut:
    """Another clinic's enrolment answers 404."""
    async with unit_of_work(request) as conn:
        found = await group_seats.get_enrolment(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            uuid_param(request, "enrolment_id"),
        )
    return enrolment_out(found)


@api.operation(
    "POST",
    "/api/v1/groups/{id}/seats/{enrolment_id}/withdraw",
    name="withdraw_from_group",
    summary="Free the patient's seat from an occurrence on; the first waiting patient gets it",
    scope="bookings:write",
    input=WithdrawIn,
    output=EnrolmentOut,
    errors=(404, 409, 422),
    path_params=_ENROLMENT,
    headers={"Idempotency-Key": "optional"},
)
async def withdraw_from_group(
    request: web.Request, caller: Caller, body: WithdrawIn
) -> web.Response:
    """Seats from `from` on are released, and in the same transaction given to the longest
    waiting patient (whose clinic is told by webhook group.seat_assigned)."""
    group_id, enrolment_id = uuid_param(request, "id"), uuid_param(request, "enrolment_id")
    base_url = request.app[SETTINGS].base_url

    async def work(conn: asyncpg.Connection) -> EnrolmentOut:
        found = await group_seats.withdraw(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            enrolment_id,
            body.from_,
            now_of(request),
            base_url=base_url,
        )
        return enrolment_out(found)

    return await idempotent(request, caller, body, work, status=200, key_required=False)


@api.operation(
    "POST",
    "/api/v1/groups/{id}/seats/{enrolment_id}/excuse",
    name="excuse_from_group_occurrence",
    summary="The patient will miss one occurrence and keeps the seat (attendance excused)",
    scope="bookings:write",
    input=ExcuseIn,
    output=EnrolmentOut,
    errors=(404, 422),
    path_params=_ENROLMENT,
    headers={"Idempotency-Key": "optional"},
)
async def excuse_from_group_occurrence(
    request: web.Request, caller: Caller, body: ExcuseIn
) -> web.Response:
    """422 `position` when the patient holds no seat in that occurrence still to come."""
    group_id, enrolment_id = uuid_param(request, "id"), uuid_param(request, "enrolment_id")

    async def work(conn: asyncpg.Connection) -> EnrolmentOut:
        found = await group_seats.excuse(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            enrolment_id,
            body.position,
            now_of(request),
        )
        return enrolment_out(found)

    return await idempotent(request, caller, body, work, status=200, key_required=False)


@api.operation(
    "POST",
    "/api/v1/groups/{id}/waitlist",
    name="join_group_waitlist",
    summary="Put a patient of the clinic on a full group's waitlist (first come, first served)",
    scope="bookings:write",
    input=WaitIn,
    output=WaitOut,
    status=201,
    errors=(404, 409, 422),
    path_params=_GROUP,
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/groups/{group_id}/waitlist/{id}"),
)
async def join_group_waitlist(request: web.Request, caller: Caller, body: WaitIn) -> web.Response:
    """409 when a seat is open in every occurrence to come (enrol instead), or the patient is
    enrolled or waiting already."""
    group_id = uuid_param(request, "id")

    async def work(conn: asyncpg.Connection) -> WaitOut:
        found = await group_seats.wait(
            conn, caller, trail_of(request, caller), group_id, body.patient_id, now_of(request)
        )
        return wait_out(found)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/groups/{id}/waitlist/{waitlist_id}",
    name="get_group_waitlist_place",
    summary="A patient's place on a group's waitlist: waiting (and where), assigned or left",
    scope="bookings:read",
    input=NoInput,
    output=WaitOut,
    errors=(404,),
    path_params=_WAITING,
)
async def get_group_waitlist_place(request: web.Request, caller: Caller, _: NoInput) -> WaitOut:
    """Another clinic's place answers 404."""
    async with unit_of_work(request) as conn:
        found = await group_seats.get_waiting(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            uuid_param(request, "waitlist_id"),
        )
    return wait_out(found)


@api.operation(
    "POST",
    "/api/v1/groups/{id}/waitlist/{waitlist_id}/leave",
    name="leave_group_waitlist",
    summary="Take the clinic's patient off a group's waitlist",
    scope="bookings:write",
    input=NoInput,
    output=WaitOut,
    errors=(404, 409),
    path_params=_WAITING,
    headers={"Idempotency-Key": "optional"},
)
async def leave_group_waitlist(request: web.Request, caller: Caller, body: NoInput) -> web.Response:
    """409 when the patient is no longer waiting (assigned a seat, or left)."""
    group_id, waitlist_id = uuid_param(request, "id"), uuid_param(request, "waitlist_id")

    async def work(conn: asyncpg.Connection) -> WaitOut:
        found = await group_seats.leave(
            conn, caller, trail_of(request, caller), group_id, waitlist_id, now_of(request)
        )
        return wait_out(found)

    return await idempotent(request, caller, body, work, status=200, key_required=False)
