"""Book a series: a course of sessions for one patient, every date shown before anything is
booked, the sessions that are not open with times to choose instead, then one confirmation.
A series' page lists its sessions and cancels one and every later one."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from scheduling import series
from scheduling.series import SeriesNotOpen
from scheduling.series_schemas import CancelFromIn, SeriesIn
from spokes import series_views
from spokes.pages.common import clinic_of, page, utc_text
from spokes.series_views import Planned
from spokes.store import Spoke
from telehub import labels
from telehub.auth import Caller
from telehub.errors import Conflict, NotAnOpenSlot, ValidationFailed
from telehub.forms import check, errors_of, pick, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, local_time, see_other, signed_in, url_for

routes = web.RouteTableDef()

# The form's inputs in the order it shows them (errors are summarised in this order).
SERIES_INPUTS = (
    "patient_id",
    "service_id",
    "consultant_id",
    "role",
    "first_start",
    "repeat",
    "count",
    "until",
    "reason",
)
SERIES_LABELS = {
    "first_start": "First session",
    "repeat": "Repeat",
    "count": "Number of sessions",
    "until": "Or until",
    "overrides": "Another time",
    "from": "From session",
    "reason": "Reason",
}
# What a link to the form may fill (never the reason: free text stays out of addresses).
LINK_INPUTS = ("patient_id", "service_id", "consultant_id", "role", "repeat", "count", "until")
REPEATS = (("weekly", "Every week"), ("every_2_weeks", "Every 2 weeks"))
LOCAL_INPUT = "%Y-%m-%dT%H:%M"  # what <input type="datetime-local"> holds
OVERRIDE = "override."  # `override.5`: the time chosen instead for session 5


def _as_int(text: str | None) -> int | None:
    return int(text) if text and text.isdigit() else None


def _as_uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


def _local_input(start: str | None, zone: ZoneInfo) -> str:
    """A UTC time from a link, as the clinic's wall clock in the form's input (or blank)."""
    try:
        moment = datetime.fromisoformat((start or "").replace("Z", "+00:00"))
    except ValueError:
        return ""
    if moment.tzinfo is None:
        return ""
    return local_time(moment, zone.key, LOCAL_INPUT)


def _first_start(typed: str, zone: ZoneInfo) -> str:
    """The form's first session (the clinic's wall clock) as a UTC instant; left as typed
    when it is not a date and time, so the model says what is wrong with it."""
    try:
        moment = datetime.fromisoformat(typed)
    except ValueError:
        return typed
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    return utc_text(moment)


def series_body(typed: Mapping[str, str], zone: ZoneInfo) -> dict[str, Any]:
    """The form as the API's SeriesIn reads it: blank inputs left out, overrides gathered."""
    body: dict[str, Any] = pick(typed, SERIES_INPUTS)
    if "first_start" in body:
        body["first_start"] = _first_start(body["first_start"], zone)
    overrides = [
        {"occurrence": int(name.removeprefix(OVERRIDE)), "start": value}
        for name, value in typed.items()
        if name.startswith(OVERRIDE) and name.removeprefix(OVERRIDE).isdigit() and value
    ]
    if overrides:
        body["overrides"] = sorted(overrides, key=lambda o: o["occurrence"])
    return body


def _refusal(failed: ValidationFailed | NotAnOpenSlot) -> dict[str, str]:
    """A refused plan's or booking's field errors, at the inputs that show them."""
    as_fields = ValidationFailed(failed.detail, errors=failed.errors)
    return _plain(errors_of(as_fields, SERIES_INPUTS))


def _plain(errors: dict[str, str]) -> dict[str, str]:
    """The model's words for the pair of choices, as the form asks them."""
    if "count and until" in errors.get("count", ""):
        errors["count"] = "give the number of sessions or a last date, not both and not neither"
    if "consultant_id and role" in errors.get("consultant_id", ""):
        errors["consultant_id"] = "choose a consultant, or any consultant of a role, not both"
    return errors


async def _form_page(
    request: web.Request,
    values: dict[str, str],
    *,
    errors: dict[str, str] | None = None,
    planned: Planned | None = None,
    problem: str | None = None,
    mrn: str | None = None,
    first_nearby: list[datetime] | None = None,
    status: int = 200,
) -> web.Response:
    """The form, and when planned every session with its date, then the confirmation."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)

    def restart(moment: datetime) -> str:
        """The form again, as filled, with the series starting at `moment` instead."""
        query = {**pick(values, LINK_INPUTS), "start": utc_text(moment)}
        return url_for(request, "spoke_series_new", query)

    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
        shown = await series_views.choices(
            conn,
            caller,
            trail,
            patient_id=_as_uuid(values.get("patient_id")),
            mrn=mrn,
            service_id=_as_int(values.get("service_id")),
        )
    return page(
        request,
        "spokes/series_new.html",
        {
            "spoke": spoke,
            "choices": shown,
            "values": values,
            "errors": errors or {},
            "series_labels": SERIES_LABELS,
            "mrn": mrn or "",
            "service_options": [(s.id, s.name) for s in shown.services],
            "consultant_options": [(c.id, c.name) for c in shown.consultants],
            "role_options": labels.options("consultant_role"),
            "repeats": REPEATS,
            "planned": planned,
            "confirm_inputs": _confirm_inputs(values, planned, spoke) if planned else {},
            "utc_text": utc_text,
            "problem": problem,
            "first_nearby": [(moment, restart(moment)) for moment in first_nearby or []],
            "restart": restart,
            "patient_search": lambda p: url_for(
                request,
                "spoke_series_new",
                {**pick(values, ("service_id", "consultant_id", "start")), "patient_id": p.id},
            ),
        },
        status=status,
    )


def _confirm_inputs(values: Mapping[str, str], planned: Planned, spoke: Spoke) -> dict[str, str]:
    """The planned series as the confirmation's hidden inputs: the consultant the plan chose
    (for "any consultant of a role") and the first session as the form had it."""
    kept = pick(values, ("patient_id", "service_id", "first_start", "repeat", "reason"))
    kept["consultant_id"] = str(planned.plan.consultant_id)
    not_open = {str(o.position) for o in planned.plan.not_open}
    for name, value in values.items():  # times chosen before for sessions open with them
        if name.startswith(OVERRIDE) and value and name.removeprefix(OVERRIDE) not in not_open:
            kept[name] = value
    if values.get("until") and not values.get("count"):
        kept["until"] = values["until"]
    else:
        kept["count"] = str(len(planned.plan.occurrences))
    return kept


@routes.get("/spoke/series/new", name="spoke_series_new")
async def new_series(request: web.Request) -> web.Response:
    """The "Book a series" form, filled from the link (patient, service, consultant, start)."""
    user = signed_in(request, *ROLES_SPOKE)
    query = request.query
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, user.caller)
    values = pick(query, (*LINK_INPUTS, "start"))
    values.setdefault("repeat", "weekly")
    values["first_start"] = _local_input(query.get("start"), spoke.zone)
    if _as_uuid(values.get("patient_id")) is None:
        values.pop("patient_id", None)
    mrn = query["mrn"].strip()[:64] if query.get("mrn") else None
    return await _form_page(request, values, mrn=mrn)


async def _series_asked(
    request: web.Request, caller: Caller
) -> tuple[dict[str, str], Spoke, SeriesIn] | web.Response:
    """The form as typed, the clinic and the series it asks for; or, when the form does not
    make a series, the form again with what is wrong (422)."""
    typed = await typed_form(request)
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
    parsed, errors = check(SeriesIn, series_body(typed, spoke.zone), SERIES_INPUTS)
    if parsed is None:
        return await _form_page(request, typed, errors=_plain(errors), status=422)
    return typed, spoke, parsed


@routes.post("/spoke/series/plan", name="spoke_series_plan")
async def plan_series(request: web.Request) -> web.Response:
    """Every session of the series with its date, open or not (nothing is booked)."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    asked = await _series_asked(request, caller)
    if isinstance(asked, web.Response):
        return asked
    typed, _, parsed = asked
    try:
        async with unit_of_work(request) as conn:
            planned = await series_views.planned(conn, caller, trail, parsed, now_of(request))
    except (ValidationFailed, NotAnOpenSlot) as failed:
        nearby = [datetime.fromisoformat(a) for a in failed.extra.get("alternatives", [])]
        return await _form_page(
            request, typed, errors=_refusal(failed), first_nearby=nearby, status=422
        )
    return await _form_page(request, typed, planned=planned)


@routes.post("/spoke/series", name="spoke_series_post")
async def book_series(request: web.Request) -> web.Response:
    """Book every session as planned (with the times chosen instead), or none of them."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    asked = await _series_asked(request, caller)
    if isinstance(asked, web.Response):
        return asked
    typed, spoke, parsed = asked
    settings = request.app[SETTINGS]
    try:
        async with unit_of_work(request) as conn:
            booked = await series.book(
                conn,
                caller,
                trail,
                parsed,
                now_of(request),
                video_url_template=settings.video_url_template,
            )
    except SeriesNotOpen as refused:
        async with unit_of_work(request) as conn:
            planned = await series_views.refused(conn, caller, trail, refused.plan, parsed)
        problem = (
            "Some sessions are not open now, so nothing was booked. Choose another time for "
            "each of them below, then book again."
        )
        return await _form_page(request, typed, planned=planned, problem=problem, status=409)
    except (ValidationFailed, NotAnOpenSlot) as failed:
        errors = _refusal(failed)
        return await _form_page(request, typed, errors=errors, status=422)
    first = local_time(booked.bookings[0].start, spoke.timezone)
    notice = f"Booked {len(booked.bookings)} sessions, the first on {first}."
    raise await see_other(request, url_for(request, "spoke_series", id=booked.id), notice)


async def _series_page(
    request: web.Request,
    series_id: uuid.UUID,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    confirm: CancelFromIn | None = None,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    caller = user.caller
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
        shown = await series_views.shown(conn, caller, trail_of(request, caller), series_id)
    booked = [b for b in shown.series.bookings if b.status == "booked"]
    zone = spoke.timezone
    asked = values or {}
    if "from" not in asked and request.query.get("cancel_from", "").isdigit():
        asked = {"from": request.query["cancel_from"]}
    return page(
        request,
        "spokes/series.html",
        {
            "spoke": spoke,
            "shown": shown,
            "values": asked,
            "errors": errors or {},
            "series_labels": SERIES_LABELS,
            "confirm": confirm,
            "still_booked": booked,
            "from_options": [
                (b.series_position, f"Session {b.series_position}: {local_time(b.start, zone)}")
                for b in booked
            ],
        },
        status=status,
    )


@routes.get("/spoke/series/{id}", name="spoke_series")
async def series_page(request: web.Request) -> web.Response:
    """A series: its sessions by position, each with its status, and cancelling from one."""
    return await _series_page(request, uuid_param(request, "id"))


@routes.post("/spoke/series/{id}/cancel", name="spoke_series_cancel")
async def cancel_series(request: web.Request) -> web.Response:
    """Cancel one session and every later one, once asked and confirmed; earlier ones stay.

    A post without `confirmed=yes` (the first press, or a stray post) changes nothing: it asks.
    """
    user = signed_in(request, *ROLES_SPOKE)
    series_id = uuid_param(request, "id")
    typed = await typed_form(request)
    if "from" in request.query:  # the confirmation names the session in its address
        typed.setdefault("from", request.query["from"])
    parsed, errors = check(CancelFromIn, pick(typed, ("from", "reason")), ("from", "reason"))
    status = 422
    if parsed is not None and typed.get("confirmed") != "yes":
        return await _series_page(request, series_id, values=typed, confirm=parsed)
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                await series.cancel_from(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    series_id,
                    parsed.from_,
                    parsed.reason,
                    now_of(request),
                )
        except ValidationFailed as failed:
            errors = errors_of(failed, ("from", "reason"))
        except Conflict as refused:
            errors, status = {"from": refused.detail}, 409
        else:
            notice = f"Cancelled session {parsed.from_} and every later one still booked."
            raise await see_other(request, url_for(request, "spoke_series", id=series_id), notice)
    if errors.get("reason") == "is required":
        errors["reason"] = "Say why the sessions are cancelled"
    return await _series_page(request, series_id, values=typed, errors=errors, status=status)
