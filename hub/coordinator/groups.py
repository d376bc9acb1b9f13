"""The coordinator's group pages: the groups running, a form to create one (read into the
API's GroupIn, its first start read in the counselor's time zone), and one group's sessions
with seats taken, cancelled from a session on once asked and confirmed."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from hub import group_views
from scheduling import groups
from scheduling.groups_schemas import GroupCancelIn, GroupIn
from telehub import forms
from telehub.errors import Conflict, ValidationFailed
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_HUB_STAFF, local_time, render, see_other, signed_in, url_for, utc_text

routes = web.RouteTableDef()

# The create form's inputs in the order it shows them; the first start is a date and a time.
GROUP_INPUTS = (
    "title",
    "service_id",
    "consultant_id",
    "capacity",
    "first_date",
    "first_time",
    "repeat",
    "count",
    "until",
)
LABELS = {
    "title": "Title clinics see",
    "service_id": "Service",
    "consultant_id": "Counselor",
    "capacity": "Seats",
    "first_date": "Date of the first session",
    "first_time": "Time of the first session",
    "first_start": "First session",
    "repeat": "Repeat",
    "count": "Number of sessions",
    "until": "Last date",
    "from": "From session",
    "reason": "Reason",
}
REPEATS = (("weekly", "Weekly"), ("every_2_weeks", "Every 2 weeks"), ("once", "Once"))


def _first_start(typed: dict[str, str], zone: str | None) -> str | None:
    """The first session's date and time, read in the counselor's zone, as a UTC instant."""
    day, clock = typed.get("first_date", "").strip(), typed.get("first_time", "").strip()
    if not day or not clock or zone is None:
        return None
    try:
        moment = datetime.fromisoformat(f"{day}T{clock}")
    except ValueError:
        return f"{day}T{clock}"  # left as typed: the model says what is wrong with it
    return utc_text(moment.replace(tzinfo=ZoneInfo(zone)))


def _placed(errors: dict[str, str]) -> dict[str, str]:
    """An error about the first start is shown at its date."""
    moved = {("first_date" if k == "first_start" else k): v for k, v in errors.items()}
    return forms.in_form_order(moved, GROUP_INPUTS)


async def _groups(
    request: web.Request, typed: dict[str, str], errors: dict[str, str], *, status: int = 200
) -> web.Response:
    now = now_of(request)
    async with unit_of_work(request) as conn:
        shown = await group_views.groups_page(conn, now)
    return render(
        request,
        "coordinator/groups.html",
        {
            "page": shown,
            "values": {"repeat": "weekly", "capacity": "10", **typed},
            "errors": errors,
            "labels": LABELS,
            "repeats": REPEATS,
            "hub_zone": request.app[SETTINGS].hub_timezone,
        },
        status=status,
    )


@routes.get("/coordinator/groups", name="coordinator_groups")
async def groups_list(request: web.Request) -> web.Response:
    """The groups with a session still to come, and the form to create one."""
    signed_in(request, *ROLES_HUB_STAFF)
    return await _groups(request, {}, {})


@routes.post("/coordinator/groups", name="coordinator_create_group")
async def create_group(request: web.Request) -> web.Response:
    """Create a group (its counselor's time held for every session), or say what to fix."""
    user = signed_in(request, *ROLES_HUB_STAFF)
    typed = await forms.typed_form(request)
    body: dict[str, Any] = forms.pick(typed, ("title", "service_id", "consultant_id"))
    body |= forms.pick(typed, ("capacity", "repeat", "count", "until"))
    async with unit_of_work(request) as conn:
        zone = await group_views.counselor_zone(conn, _int(typed.get("consultant_id")))
    first = _first_start(typed, zone)
    if first is not None:
        body["first_start"] = first
    parsed, errors = forms.check(GroupIn, body, (*GROUP_INPUTS, "first_start"))
    if not typed.get("first_date", "").strip() or not typed.get("first_time", "").strip():
        errors["first_start"] = "Give the date and time of the first session."
        parsed = None
    if parsed is None:
        return await _groups(request, typed, _placed(errors), status=422)
    caller, settings = user.caller, request.app[SETTINGS]
    try:
        async with unit_of_work(request) as conn:
            made = await groups.create(
                conn,
                caller,
                trail_of(request, caller),
                parsed,
                now_of(request),
                video_url_template=settings.video_url_template,
            )
    except ValidationFailed as failed:
        placed = _placed(forms.errors_of(failed, (*GROUP_INPUTS, "first_start")))
        return await _groups(request, typed, placed, status=422)
    except Conflict as conflict:
        words = conflict.detail[:1].upper() + conflict.detail[1:] + "."
        return await _groups(request, typed, {"first_date": words}, status=409)
    when = local_time(made.first_start, made.zone)
    raise await see_other(
        request,
        url_for(request, "coordinator_group", id=made.id),
        f"Created {made.title}: {made.count} sessions from {when}.",
    )


def _int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


async def _group(
    request: web.Request,
    typed: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    *,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_HUB_STAFF)
    caller, now = user.caller, now_of(request)
    async with unit_of_work(request) as conn:
        shown = await group_views.group_page(
            conn, caller, trail_of(request, caller), uuid_param(request, "id")
        )
    still = [o for o in shown.group.occurrences if o.status == "scheduled" and o.end > now]
    return render(
        request,
        "coordinator/group.html",
        {
            "shown": shown,
            "g": shown.group,
            "cancellable": still,
            "values": typed or {},
            "errors": errors or {},
            "labels": LABELS,
            "asking": bool(errors),
        },
        status=status,
    )


@routes.get("/coordinator/groups/{id}", name="coordinator_group")
async def group_page(request: web.Request) -> web.Response:
    """One group: each session's time, seats taken of capacity, and cancelling from one on."""
    return await _group(request)


@routes.post("/coordinator/groups/{id}/cancel", name="coordinator_cancel_group")
async def cancel_group(request: web.Request) -> web.Response:
    """Cancel from a session on, once asked and confirmed (`confirmed=yes`); a post without
    the confirmation changes nothing and asks again."""
    user = signed_in(request, *ROLES_HUB_STAFF)
    typed = await forms.typed_form(request)
    names = ("from", "reason")
    parsed, errors = forms.check(GroupCancelIn, forms.pick(typed, names), names)
    if typed.get("confirmed") != "yes":
        errors = {"from": "Confirm the cancellation: nothing was cancelled.", **errors}
        return await _group(request, typed, errors, status=422)
    if parsed is None:
        return await _group(request, typed, errors, status=422)
    caller = user.caller
    try:
        async with unit_of_work(request) as conn:
            kept = await groups.cancel_from(
                conn,
                caller,
                trail_of(request, caller),
                uuid_param(request, "id"),
                parsed.from_,
                parsed.reason,
                now_of(request),
            )
    except ValidationFailed as failed:
        return await _group(request, typed, forms.errors_of(failed, names), status=422)
    except Conflict as conflict:
        words = conflict.detail[:1].upper() + conflict.detail[1:] + "."
        return await _group(request, typed, {"from": words}, status=409)
    raise await see_other(
        request,
        url_for(request, "coordinator_group", id=kept.id),
        f"Cancelled from session {parsed.from_} on. Their seats are freed and the "
        "counselor's time is open again.",
    )
