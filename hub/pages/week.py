"""The consultant's week: sessions day by day in their zone (bookings and the group sessions
they run, in time order), and recording an outcome."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web

from hub import views
from hub.pages.common import consultant_user, zone_label
from scheduling import bookings
from scheduling.bookings import VIRTUAL_KINDS
from scheduling.schemas import OutcomeIn
from scheduling.store import ExceptionRow
from scheduling.weeks import local_week, monday_of
from telehub import forms
from telehub.errors import FieldError, ValidationFailed
from telehub.labels import label
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import Input, read_query
from telehub.web import local_time, render, see_other, url_for

routes = web.RouteTableDef()


@dataclass(frozen=True, slots=True)
class DayPeriod:
    """Time off or extra hours as one day of the week shows them (clipped to that day)."""

    kind: str
    start: str  # local "HH:MM"; "00:00" when it began on an earlier day
    end: str  # local "HH:MM"; "24:00" when it goes on past midnight
    note: str


def periods_on(day: date, exceptions: list[ExceptionRow], zone: ZoneInfo) -> list[DayPeriod]:
    """The time off and extra hours that touch a local day, by start."""
    midnight = datetime.combine(day, time(0), zone)
    following = datetime.combine(day + timedelta(days=1), time(0), zone)
    return [
        DayPeriod(
            e.kind,
            f"{e.start.astimezone(zone):%H:%M}" if e.start > midnight else "00:00",
            f"{e.end.astimezone(zone):%H:%M}" if e.end < following else "24:00",
            e.note,
        )
        for e in sorted(exceptions, key=lambda e: e.start)
        if e.start < following and e.end > midnight
    ]


def sessions_on(day: date, shown: views.Week, zone: ZoneInfo) -> list[tuple[str, object]]:
    """A local day's bookings ("booking", b) and group occurrences ("group", o), by start."""
    on_day: list[tuple[datetime, str, object]] = [
        (b.start, "booking", b) for b in shown.bookings if b.start.astimezone(zone).date() == day
    ]
    on_day += [
        (o.start, "group", o) for o in shown.groups if o.start.astimezone(zone).date() == day
    ]
    on_day.sort(key=lambda entry: (entry[0], entry[1]))
    return [(kind, item) for _, kind, item in on_day]


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
        consultant = await views.consultant(conn, consultant_id)
        zone = ZoneInfo(consultant.timezone)
        monday = monday_of(query.week or now.astimezone(zone).date())
        trail = trail_of(request, caller)
        shown = await views.week(conn, caller, trail, consultant, local_week(monday, zone))
        safety = await views.safety_count(
            conn, caller, trail, consultant_id, now.astimezone(zone).date()
        )
    week = [monday + timedelta(days=i) for i in range(7)]
    found = shown.bookings
    days = [
        (
            day,
            sessions_on(day, shown, zone),
            periods_on(day, shown.exceptions, zone),
        )
        for day in week
    ]
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
            "group_count": sum(1 for o in shown.groups if o.status != "cancelled"),
            "safety_flagged": safety,
            "now": now,
            "patients": shown.patients,
            "services": shown.services,
            "spokes": shown.spokes,
            "cases": shown.cases,
            "sessions": VIRTUAL_KINDS,
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
        consultant = await views.consultant(conn, consultant_id)
        done = await bookings.record_outcome(
            conn,
            caller,
            trail_of(request, caller),
            booking_id,
            outcome=parsed.outcome,
            now=now_of(request),
        )
    when = done.start.astimezone(ZoneInfo(consultant.timezone))
    notice = (
        f"The session of {local_time(done.start, consultant.timezone)} is recorded as "
        f"{label(done.status, 'status', 'hub')}."
    )
    target = url_for(request, "hub_week", {"week": when.date().isoformat()})
    raise await see_other(request, f"{target}#b-{done.id}", notice)
