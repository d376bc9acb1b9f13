"""The coordinator's program dashboard: open work, capacity, turnaround, loop closure, no-shows."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from aiohttp import web
from markupsafe import Markup

from consults import measure_store
from consults.measure_store import Measures
from hub import charts
from hub import store as hub_store
from hub.coordinator.common import hub_zone
from scheduling import capacity, capacity_store
from scheduling import store as scheduling_store
from scheduling.slots import Period
from spokes import store as spokes_store
from telehub.request import now_of, unit_of_work
from telehub.web import ROLES_HUB_STAFF, render, signed_in

routes = web.RouteTableDef()

WEEKS_AHEAD = 8
WEEKS_BACK = 12


@dataclass(frozen=True, slots=True)
class WeekRow:
    """One week of the capacity or no-show table."""

    start: datetime
    label: str
    first: float | int | None
    second: float | int | None
    share: float | None


@dataclass(frozen=True, slots=True)
class MeasureRow:
    """One consultant's or spoke's line of the turnaround or loop-closure table."""

    name: str
    count: int
    done: int
    median: float | None
    p90: float | None

    @property
    def share(self) -> float | None:
        """done / count as a percentage; None when there is nothing to count."""
        return 100.0 * self.done / self.count if self.count else None


def _percent(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole > 0 else None


def _label(week: Period, zone: ZoneInfo) -> str:
    return f"{week.start.astimezone(zone):%-d %b}"


def _rows(found: Sequence[Measures], names: dict[int, str], closure: bool) -> list[MeasureRow]:
    rows = [
        MeasureRow(
            names.get(m.key, f"#{m.key}"),
            m.notes_signed if closure else m.econsults,
            m.acknowledged if closure else m.answered,
            m.loop_closure_median_hours if closure else m.turnaround_median_hours,
            m.loop_closure_p90_hours if closure else m.turnaround_p90_hours,
        )
        for m in found
        if (m.notes_signed if closure else m.econsults)
    ]
    return sorted(rows, key=lambda r: r.name)


@routes.get("/coordinator", name="coordinator_dashboard")
async def dashboard(request: web.Request) -> web.Response:
    """The program at a glance: open work, capacity, turnaround, loop closure, no-shows."""
    signed_in(request, *ROLES_HUB_STAFF)
    now, zone = now_of(request), hub_zone(request)
    ahead = capacity.weeks(now, zone, first=0, count=WEEKS_AHEAD)
    back = capacity.weeks(now, zone, first=1 - WEEKS_BACK, count=WEEKS_BACK)
    async with unit_of_work(request) as conn:
        calendars = await scheduling_store.load_calendars(
            conn, None, Period(ahead[0].start, ahead[-1].end), with_busy=False
        )
        booked = await capacity_store.booked_hours(conn, ahead)
        outcomes = await capacity_store.session_outcomes(conn, back)
        # Through the end of this week: work finished a moment ago counts too.
        measures = await measure_store.program_measures(conn, back[0].start, back[-1].end, now)
        spokes = {s.id: s.name for s in await spokes_store.list_spokes(conn)}
        people = {
            c.id: c.name for c in await hub_store.list_consultants(conn, include_inactive=True)
        }
    offered = capacity.weekly_capacity(calendars, ahead)
    overall = next(m for m in measures if m.level == "overall")
    since = f"{back[0].start.astimezone(zone):%-d %b %Y}"

    capacity_rows = [
        WeekRow(w.start, _label(w, zone), o, b, _percent(b, o))
        for w, o, b in zip(ahead, offered, booked, strict=True)
    ]
    no_show_rows = [
        WeekRow(w.start, _label(w, zone), o.completed, o.no_show, o.no_show_rate)
        for w, o in zip(back, outcomes, strict=True)
    ]
    turnaround = _rows([m for m in measures if m.level == "consultant"], people, closure=False)
    closure = _rows([m for m in measures if m.level == "spoke"], spokes, closure=True)
    return render(
        request,
        "coordinator/dashboard.html",
        {
            "zone": zone.key,
            "now": now,
            "since": since,
            "overall": overall,
            "open_econsults": overall.econsults - overall.answered,
            "oldest_wait": _waited(now, overall.oldest_unacknowledged_at),
            "capacity_rows": capacity_rows,
            "no_show_rows": no_show_rows,
            "turnaround": turnaround,
            "turnaround_all": _rows([overall], {0: "All consultants"}, closure=False),
            "closure": closure,
            "closure_all": _rows([overall], {0: "All spokes"}, closure=True),
            "charts": _charts(capacity_rows, no_show_rows, turnaround, closure, since),
        },
    )


def _charts(
    capacity_rows: list[WeekRow],
    no_show_rows: list[WeekRow],
    turnaround: list[MeasureRow],
    closure: list[MeasureRow],
    since: str,
) -> dict[str, Markup]:
    """The four dashboard charts, each described in words for screen readers."""
    first = capacity_rows[0]
    return {
        "capacity": charts.bar_chart(
            "Weekly capacity and booked hours",
            [r.label for r in capacity_rows],
            [
                ("Capacity", [r.first for r in capacity_rows]),
                ("Booked", [r.second for r in capacity_rows]),
            ],
            "h",
            chart_id="chart-capacity",
            description=(
                f"Hours consultants offer (weekly hours less time off) and hours booked, for "
                f"{len(capacity_rows)} weeks from the week of {first.label}. This week "
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
                f"percentile, for each consultant, for e-consults submitted since {since}."
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
                f"each spoke, with the share of notes acknowledged, for notes signed since {since}."
            ),
        ),
        "no_show": charts.bar_chart(
            "No-show rate by week",
            [r.label for r in no_show_rows],
            [("No-show rate", [r.share for r in no_show_rows])],
            "%",
            chart_id="chart-no-show",
            at_least=10,
            description=(
                "Share of sessions with a recorded outcome where the patient did not come, for "
                f"each of the {len(no_show_rows)} weeks since {since}. A dash is a week "
                "without sessions."
            ),
        ),
    }


def _waited(now: datetime, since: datetime | None) -> str:
    """How long something has waited, in words: "3 days", "5 hours"."""
    if since is None:
        return ""
    hours = int((now - since).total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{max(hours, 0)} hours"


def _hours(value: float | int | None) -> str:
    return (
        "no" if value is None else f"{value:.0f} h" if value == round(value) else f"{value:.1f} h"
    )
