"""The consultant's week: sessions day by day in their zone, and recording an outcome."""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from consults import store as consults_store
from hub.pages.common import (
    STATUS_LABELS,
    consultant_of,
    consultant_user,
    services_by_id,
    spokes_by_id,
    zone_label,
)
from scheduling import bookings
from scheduling.bookings import VIRTUAL_KINDS, BookingFilter
from scheduling.schemas import OutcomeIn
from scheduling.weeks import local_week, monday_of
from spokes import store as spokes_store
from telehub import forms
from telehub.errors import FieldError, ValidationFailed
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import Input, read_query
from telehub.web import render, see_other

routes = web.RouteTableDef()


class WeekQuery(Input):
    """Which week to show: any date in it (default: this week)."""

    week: date | None = None


@routes.get("/hub", name="hub_week")
async def my_week(request: web.Request) -> web.Response:
    """This week's sessions, day by day in the consultant's zone, with outcomes to record."""
    user, consultant_id = consultant_user(request)
    query = read_query(request, WeekQuery)
    caller, now = user.caller, now_of(request)
    async with unit_of_work(request) as conn:
        consultant = await consultant_of(conn, consultant_id)
        zone = ZoneInfo(consultant.timezone)
        monday = monday_of(query.week or now.astimezone(zone).date())
        shown = local_week(monday, zone)
        which = BookingFilter(start=shown.start, end=shown.end, limit=500)
        found = await bookings.find(conn, caller, trail_of(request, caller), which)
        patients = await spokes_store.patients_by_id(conn, None, [b.patient_id for b in found])
        services = await services_by_id(conn, {b.service_id for b in found})
        spokes = await spokes_by_id(conn)
        cases = await consults_store.econsults_by_booking(conn, [b.id for b in found])
    week = [monday + timedelta(days=i) for i in range(7)]
    days = [(day, [b for b in found if b.start.astimezone(zone).date() == day]) for day in week]
    return render(
        request,
        "hub/week.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "monday": monday,
            "sunday": week[-1],
            "previous": monday - timedelta(days=7),
            "following": monday + timedelta(days=7),
            "this_week": monday == monday_of(now.astimezone(zone).date()),
            "today": now.astimezone(zone).date(),
            "days": days,
            "count": sum(1 for b in found if b.status != "cancelled"),
            "now": now,
            "patients": patients,
            "services": services,
            "spokes": spokes,
            "cases": cases,
            "sessions": VIRTUAL_KINDS,
            "labels": STATUS_LABELS,
        },
    )


@routes.post("/hub/bookings/{id}/outcome", name="hub_booking_outcome")
async def record_outcome(request: web.Request) -> web.Response:
    """Completed or no-show, for a session that has begun."""
    user, consultant_id = consultant_user(request)
    booking_id = uuid_param(request, "id")
    parsed = (await forms.read(request, OutcomeIn)).parsed
    if parsed is None:  # only a hand-made request sends anything but the two buttons' values
        raise ValidationFailed(
            "Choose Completed or No-show.",
            errors=[FieldError("outcome", "choose Completed or No-show")],
        )
    caller = user.caller
    async with unit_of_work(request) as conn:
        consultant = await consultant_of(conn, consultant_id)
        done = await bookings.record_outcome(
            conn,
            caller,
            trail_of(request, caller),
            booking_id,
            outcome=parsed.outcome,
            now=now_of(request),
        )
    zone = ZoneInfo(consultant.timezone)
    when = done.start.astimezone(zone)
    notice = (
        f"The session of {when:%A %-d %B at %H:%M} is recorded as "
        f"{STATUS_LABELS.get(done.status, done.status)}."
    )
    raise await see_other(request, f"/hub?week={when.date().isoformat()}#b-{done.id}", notice)
