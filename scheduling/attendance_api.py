"""Attendance API: the hub records who came to a group's occurrence, and reads its roster."""

from __future__ import annotations

import asyncpg
from aiohttp import web

from scheduling import attendance
from scheduling.attendance import Roster
from scheduling.attendance_schemas import AttendanceIn, RosterOut, SeatOut
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.errors import NotFound
from telehub.idempotency import idempotent
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="groups")


def roster_out(r: Roster) -> RosterOut:
    """The API view of an occurrence's roster."""
    o = r.occurrence
    return RosterOut(
        group_id=o.group_id,
        position=o.position,
        start=o.start,
        end=o.end,
        capacity=o.capacity,
        status=o.status,
        seats=[
            SeatOut(
                seat=s.seat_no,
                enrolment_id=s.enrolment_id,
                spoke_id=s.spoke_id,
                patient_id=s.patient_id,
                attendance=s.attendance,
                recorded_at=s.recorded_at,
            )
            for s in r.seats
        ],
    )


def _position(request: web.Request) -> int:
    text = request.match_info["position"]
    if not text.isdigit() or not 1 <= int(text) <= 52:
        raise NotFound("no such occurrence of the group")
    return int(text)


@api.operation(
    "GET",
    "/api/v1/groups/{id}/occurrences/{position}/attendance",
    name="get_attendance",
    summary="An occurrence's roster and attendance (the hub's: every clinic's patients)",
    scope="bookings:outcome",
    input=NoInput,
    output=RosterOut,
    errors=(404,),
    path_params={"id": "uuid", "position": "integer"},
)
async def get_attendance(request: web.Request, caller: Caller, _: NoInput) -> RosterOut:
    """The counselor's own groups (or any, for the hub's administrators); a clinic gets 403."""
    async with unit_of_work(request) as conn:
        found = await attendance.roster(
            conn, caller, trail_of(request, caller), uuid_param(request, "id"), _position(request)
        )
    return roster_out(found)


@api.operation(
    "POST",
    "/api/v1/groups/{id}/occurrences/{position}/attendance",
    name="record_attendance",
    summary="Record attendance (attended, no_show, excused) per patient, all or none",
    scope="bookings:outcome",
    input=AttendanceIn,
    output=RosterOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid", "position": "integer"},
    headers={"Idempotency-Key": "optional"},
)
async def record_attendance(
    request: web.Request, caller: Caller, body: AttendanceIn
) -> web.Response:
    """422 names a mark whose enrolment or seat holds no seat here, one given twice, or
    attended/no-show before the session starts; 409 a cancelled occurrence."""
    group_id, position = uuid_param(request, "id"), _position(request)

    async def work(conn: asyncpg.Connection) -> RosterOut:
        recorded = await attendance.record(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            position,
            body.attendance,
            now=now_of(request),
        )
        return roster_out(recorded)

    return await idempotent(request, caller, body, work, status=200, key_required=False)
