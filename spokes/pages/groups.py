"""The clinic's group pages: find a group with an open seat for a patient, a group's page
(seats taken, the clinic's OWN patients only), enrol, withdraw (asked first), excuse one
session, and join or leave a full group's waitlist."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg
from aiohttp import web

from scheduling import group_seats
from scheduling.group_seats_schemas import EnrolIn, ExcuseIn, WaitIn, WithdrawIn
from spokes import group_views
from spokes.pages.common import STATES, clinic_of, page
from telehub.errors import Conflict, ValidationFailed
from telehub.forms import check, errors_of, pick, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()

FIND_INPUTS = ("service_id", "patient_state", "from_date", "to_date")
ENROL_INPUTS = ("patient_id", "from")
GROUP_LABELS = {
    "service_id": "Kind of group",
    "patient_state": "Patient's state",
    "from_date": "From",
    "to_date": "To",
    "patient_id": "Patient",
    "from": "From session",
    "position": "Session",
    "mrn": "MRN",
}


def _as_uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text or "")
    except ValueError:
        return None


@routes.get("/spoke/groups", name="spoke_groups")
async def groups_page(request: web.Request) -> web.Response:
    """Groups with an open seat for a patient (or a state), and the clinic's own groups."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    values = pick(request.query, FIND_INPUTS)
    errors: dict[str, str] = {}
    now = now_of(request)
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
        services = await group_views.group_services(conn)
        patient = await group_views.patient_of(
            conn, caller, trail, _as_uuid(request.query.get("patient_id"))
        )
        state = patient.state if patient else values.get("patient_state")
        if state and state not in STATES:
            errors["patient_state"] = "choose a state from the list"
        for name in ("from_date", "to_date"):
            if name in values and _day(values[name]) is None:
                errors[name] = "enter a date"
        first, last = _day(values.get("from_date")), _day(values.get("to_date"))
        if first and last and last < first:
            errors["to_date"] = "must be on or after the first day"
        chosen = values.get("service_id", "")
        if chosen and chosen not in {str(s) for s, _ in services}:
            errors["service_id"] = "choose a kind of group from the list"
        searched = bool(state) and not errors
        found = (
            await group_views.open_groups(
                conn,
                caller,
                trail,
                service_ids=[s for s, _ in services if not chosen or str(s) == chosen],
                patient_state=state,
                first=first,
                last=last,
                now=now,
            )
            if searched and state
            else []
        )
        own = await group_views.own_groups(conn, caller)
    return page(
        request,
        "spokes/groups.html",
        {
            "spoke": spoke,
            "patient": patient,
            "values": values,
            "errors": errors,
            "group_labels": GROUP_LABELS,
            "service_options": services,
            "state_options": [(s, s) for s in STATES],
            "searched": searched,
            "found": found,
            "own": own,
        },
        status=422 if errors else 200,
    )


async def _group_page(
    request: web.Request,
    group_id: uuid.UUID,
    *,
    patient_id: uuid.UUID | None = None,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    problem: str | None = None,
    confirm: tuple[uuid.UUID, int] | None = None,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    caller = user.caller
    mrn = request.query.get("mrn", "").strip()[:64] or None
    async with unit_of_work(request) as conn:
        shown = await group_views.group_page(
            conn,
            caller,
            trail_of(request, caller),
            group_id,
            now_of(request),
            patient_id=patient_id or _as_uuid(request.query.get("patient_id")),
            mrn=mrn,
        )
    typed = values or {}
    if mrn and shown.patient is None:
        typed, errors = (
            {**typed, "mrn": mrn},
            {**(errors or {}), "mrn": "no patient of yours has this MRN"},
        )
        status = 422
    return page(
        request,
        "spokes/group.html",
        {
            "spoke": shown.spoke,
            "shown": shown,
            "values": typed,
            "errors": errors or {},
            "group_labels": GROUP_LABELS,
            "problem": problem,
            "confirm": ({"enrolment_id": confirm[0], "position": confirm[1]} if confirm else None),
            "from_options": [(o.position, f"Session {o.position}") for o in shown.group.remaining],
        },
        status=status,
    )


@routes.get("/spoke/groups/{id}", name="spoke_group")
async def group_page(request: web.Request) -> web.Response:
    """A group: its sessions with seats taken, the clinic's own patients in it and waiting."""
    return await _group_page(request, uuid_param(request, "id"))


@routes.post("/spoke/groups/{id}/seats", name="spoke_group_enrol")
async def enrol(request: web.Request) -> web.Response:
    """A seat for the clinic's patient in every session to come (from one chosen); a full
    group says so and offers its waitlist."""
    user = signed_in(request, *ROLES_SPOKE)
    group_id = uuid_param(request, "id")
    typed = await typed_form(request)
    parsed, errors = check(EnrolIn, pick(typed, ENROL_INPUTS), ENROL_INPUTS)
    patient_id = _as_uuid(typed.get("patient_id"))
    if parsed is None:
        return await _group_page(
            request, group_id, patient_id=patient_id, values=typed, errors=errors, status=422
        )
    try:
        async with unit_of_work(request) as conn:
            await group_seats.enrol(
                conn,
                user.caller,
                trail_of(request, user.caller),
                group_id,
                parsed.patient_id,
                parsed.from_,
                now_of(request),
            )
    except ValidationFailed as failed:
        errors = errors_of(failed, ENROL_INPUTS)
        return await _group_page(
            request, group_id, patient_id=patient_id, values=typed, errors=errors, status=422
        )
    except Conflict as refused:
        problem = f"Not enrolled: {refused.detail}" if refused.detail else "Not enrolled."
        return await _group_page(
            request, group_id, patient_id=patient_id, values=typed, problem=problem, status=409
        )
    raise await see_other(request, url_for(request, "spoke_group", id=group_id), "Enrolled.")


@routes.post("/spoke/groups/{id}/seats/{enrolment_id}/withdraw", name="spoke_group_withdraw")
async def withdraw(request: web.Request) -> web.Response:
    """Free a patient's seat from one session on, once asked and confirmed.

    A post without `confirmed=yes` (the first press, or a stray post) changes nothing: it asks.
    """
    user = signed_in(request, *ROLES_SPOKE)
    group_id, enrolment_id = uuid_param(request, "id"), uuid_param(request, "enrolment_id")
    typed = await typed_form(request)
    if "from" in request.query:
        typed.setdefault("from", request.query["from"])
    parsed, errors = check(WithdrawIn, pick(typed, ("from",)), ("from",))
    if parsed is not None and typed.get("confirmed") != "yes":
        return await _group_page(request, group_id, confirm=(enrolment_id, parsed.from_))
    if parsed is None:
        return await _group_page(request, group_id, values=typed, errors=errors, status=422)
    from_ = parsed.from_
    return await _seat_change(
        request,
        group_id,
        typed,
        "from",
        lambda conn: group_seats.withdraw(
            conn,
            user.caller,
            trail_of(request, user.caller),
            group_id,
            enrolment_id,
            from_,
            now_of(request),
            base_url=request.app[SETTINGS].base_url,
        ),
        f"Withdrawn from session {from_} on; the seat is free for others.",
    )


@routes.post("/spoke/groups/{id}/seats/{enrolment_id}/excuse", name="spoke_group_excuse")
async def excuse(request: web.Request) -> web.Response:
    """The patient will miss one session and keeps the seat."""
    user = signed_in(request, *ROLES_SPOKE)
    group_id, enrolment_id = uuid_param(request, "id"), uuid_param(request, "enrolment_id")
    typed = await typed_form(request)
    parsed, errors = check(ExcuseIn, pick(typed, ("position",)), ("position",))
    if parsed is None:
        return await _group_page(request, group_id, values=typed, errors=errors, status=422)
    position = parsed.position
    return await _seat_change(
        request,
        group_id,
        typed,
        "position",
        lambda conn: group_seats.excuse(
            conn,
            user.caller,
            trail_of(request, user.caller),
            group_id,
            enrolment_id,
            position,
            now_of(request),
        ),
        f"Excused from session {position}; the seat is kept.",
    )


async def _seat_change(
    request: web.Request,
    group_id: uuid.UUID,
    typed: dict[str, str],
    field: str,
    change: Callable[[asyncpg.Connection], Awaitable[object]],
    notice: str,
) -> web.Response:
    """Make one change to a seat; a refusal is shown at `field` on the page, nothing changed."""
    try:
        async with unit_of_work(request) as conn:
            await change(conn)
    except ValidationFailed as failed:
        errors = errors_of(failed, (field,))
    except Conflict as refused:
        errors = {field: refused.detail}
    else:
        raise await see_other(request, url_for(request, "spoke_group", id=group_id), notice)
    return await _group_page(request, group_id, values=typed, errors=errors, status=422)


@routes.post("/spoke/groups/{id}/waitlist", name="spoke_group_wait")
async def wait(request: web.Request) -> web.Response:
    """Put the clinic's patient on a full group's waitlist (first come, first served)."""
    user = signed_in(request, *ROLES_SPOKE)
    group_id = uuid_param(request, "id")
    typed = await typed_form(request)
    parsed, errors = check(WaitIn, pick(typed, ("patient_id",)), ("patient_id",))
    patient_id = _as_uuid(typed.get("patient_id"))
    if parsed is None:
        return await _group_page(
            request, group_id, patient_id=patient_id, values=typed, errors=errors, status=422
        )
    try:
        async with unit_of_work(request) as conn:
            await group_seats.wait(
                conn,
                user.caller,
                trail_of(request, user.caller),
                group_id,
                parsed.patient_id,
                now_of(request),
            )
    except ValidationFailed as failed:
        errors = errors_of(failed, ("patient_id",))
        return await _group_page(
            request, group_id, patient_id=patient_id, values=typed, errors=errors, status=422
        )
    except Conflict as refused:
        return await _group_page(
            request, group_id, patient_id=patient_id, problem=refused.detail, status=409
        )
    notice = "On the waitlist: the first seat that frees is theirs, and you will be told."
    raise await see_other(request, url_for(request, "spoke_group", id=group_id), notice)


@routes.post("/spoke/groups/{id}/waitlist/{entry_id}/leave", name="spoke_group_leave")
async def leave(request: web.Request) -> web.Response:
    """Take the clinic's patient off the waitlist."""
    user = signed_in(request, *ROLES_SPOKE)
    group_id, entry_id = uuid_param(request, "id"), uuid_param(request, "entry_id")
    async with unit_of_work(request) as conn:
        await group_seats.leave(
            conn, user.caller, trail_of(request, user.caller), group_id, entry_id, now_of(request)
        )
    notice = "Off the waitlist."
    raise await see_other(request, url_for(request, "spoke_group", id=group_id), notice)
