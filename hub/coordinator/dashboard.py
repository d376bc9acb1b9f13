"""The coordinator's program dashboard: open work, capacity, turnaround, loop closure, no-shows,
and the collaborative care registry's outcomes per clinic.

It shows `hub.program.program_dashboard` for the days the coordinator chose (From, To), by
default the last 8 weeks.
"""

from __future__ import annotations

from datetime import date, timedelta
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from hub import charts, program
from hub.coordinator.common import hub_zone
from hub.program import MeasureRow, ProgramDashboard, ProgramRange, WeekRow
from telehub import forms
from telehub.db import reading
from telehub.keys import POOL, REPLICA, SETTINGS
from telehub.request import now_of
from telehub.web import ROLES_HUB_STAFF, render, signed_in

routes = web.RouteTableDef()

RANGE_INPUTS = ("since", "until")
RANGE_LABELS = {"since": "From", "until": "To"}
DAY = "%a %-d %b %Y"


@routes.get("/coordinator", name="coordinator_dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """The program at a glance for the chosen days; a range that cannot be shown says why."""
    signed_in(request, *ROLES_HUB_STAFF)
    now, zone = now_of(request), hub_zone(request)
    typed = {name: request.query.get(name, "").strip() for name in RANGE_INPUTS}
    chosen, errors = forms.check(ProgramRange, forms.pick(typed, RANGE_INPUTS), RANGE_INPUTS)
    since, until = program.chosen_range(chosen or ProgramRange(), now, zone)
    app = request.app  # figures a few seconds old: the replica, when there is one
    async with reading(app[POOL], app.get(REPLICA), app[SETTINGS].db_acquire_timeout) as conn:
        shown = await program.program_dashboard(conn, since, until, zone, now)
    this_monday = program.default_range(now, zone)[1] - timedelta(days=6)
    return render(
        request,
        "coordinator/dashboard.html",
        {
            "program": shown,
            "zone": zone.key,
            "first_day": f"{since:{DAY}}",
            "last_day": f"{until:{DAY}}",
            "values": typed if errors else {"since": str(since), "until": str(until)},
            "errors": errors,
            "labels": RANGE_LABELS,
            "next_weeks": {
                "since": str(this_monday),
                "until": str(this_monday + timedelta(weeks=program.DEFAULT_WEEKS, days=-1)),
            },
            "charts": _charts(shown, zone, since, until),
        },
        status=422 if errors else 200,
    )


def _week(row: WeekRow, zone: ZoneInfo) -> str:
    return f"{row.start.astimezone(zone):%-d %b}"


def _charts(shown: ProgramDashboard, zone: ZoneInfo, since: date, until: date) -> dict[str, Markup]:
    """The four dashboard charts, each described in words for screen readers."""
    days = f"from {since:{DAY}} to {until:{DAY}}"
    weeks = [_week(r, zone) for r in shown.capacity]
    first = shown.capacity[0]
    turnaround: list[MeasureRow] = shown.turnaround
    closure: list[MeasureRow] = shown.closure
    return {
        "capacity": charts.bar_chart(
            "Weekly capacity and booked hours",
            weeks,
            [
                ("Capacity", [r.first for r in shown.capacity]),
                ("Booked", [r.second for r in shown.capacity]),
            ],
            "h",
            chart_id="chart-capacity",
            description=(
                f"Hours consultants offer (weekly hours less time off) and hours booked, for "
                f"{len(weeks)} weeks {days}. In the week of {weeks[0]} "
                f"{_hours(first.second)} of {_hours(first.first)} are booked."
            ),
        ),
        "turnaround": charts.hbar_chart(
            "E-consult turnaround by consultant",
            [r.name for r in turnaround],
            [
                ("Median", [r.median for r in turnaround]),
                ("90th percentile", [r.p90 for r in turnaround]),
            ],
            "h",
            chart_id="chart-turnaround",
            description=(
                "Hours from an e-consult's submission to its signed answer, median and 90th "
                f"percentile, for each consultant, for e-consults submitted {days}."
            ),
        ),
        "closure": charts.hbar_chart(
            "Loop closure by spoke",
            [r.name for r in closure],
            [("Median", [r.median for r in closure])],
            "h",
            chart_id="chart-closure",
            notes=[f"{r.share:.0f}% ack." if r.share is not None else "" for r in closure],
            description=(
                "Median hours from a signed consult note to the clinic's acknowledgement, for "
                f"each spoke, with the share of notes acknowledged, for notes signed {days}."
            ),
        ),
        "no_show": charts.bar_chart(
            "No-show rate by week",
            weeks,
            [("No-show rate", [r.share for r in shown.no_shows])],
            "%",
            chart_id="chart-no-show",
            at_least=10,
            description=(
                "Share of sessions with a recorded outcome where the patient did not come, for "
                f"each of the {len(weeks)} weeks {days}. A dash is a week without sessions."
            ),
        ),
    }


def _hours(value: float | int | None) -> str:
    return (
        "no" if value is None else f"{value:.0f} h" if value == round(value) else f"{value:.1f} h"
    )
