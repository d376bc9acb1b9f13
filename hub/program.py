"""The program dashboard's read model: what the coordinator's dashboard shows, for a date range.

`program_dashboard(conn, since, until, zone, now)` joins what it needs (capacity and bookings from
scheduling, turnaround and loop closure from consults, the registry's outcomes from care, names
from the hub and the spokes) so the page handler asks one function and renders its answer. Every
table and chart covers the same days, `since` to `until` on the hub's clock, week by week (weeks
start on Monday); what is past due or waiting is counted as of `now` (the registry's open
episodes, contacts, reviews and MOUD retention too).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Self
from zoneinfo import ZoneInfo

import asyncpg
from pydantic import field_validator, model_validator

from care import outcomes as care_outcomes
from care import outcomes_store
from care.outcomes import Outcomes
from consults import measure_store
from consults.measure_store import Measures
from hub import store as hub_store
from scheduling import capacity, capacity_store
from scheduling import store as scheduling_store
from scheduling.slots import Period
from scheduling.weeks import monday_of
from spokes import store as spokes_store
from telehub.validation import FieldNamedError, Input

DEFAULT_WEEKS = 8
LONGEST = timedelta(days=2 * 366)


class ProgramRange(Input):
    """The days the dashboard covers, as the coordinator chose them (blank: the default)."""

    since: date | None = None
    until: date | None = None

    @field_validator("since", "until")
    @classmethod
    def _plausible(cls, value: date | None) -> date | None:
        if value is not None and not 2000 <= value.year <= 2100:
            raise ValueError("must be a date between the years 2000 and 2100")
        return value

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.since is not None and self.until is not None:
            if self.until < self.since:
                raise FieldNamedError("until", "must be on or after the From date")
            if self.until - self.since >= LONGEST:
                raise FieldNamedError("until", "must be within 2 years of the From date")
        return self


def default_range(now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The last 8 weeks: from the Monday 7 weeks before this week's to this week's Sunday."""
    monday = monday_of(now.astimezone(zone).date())
    return monday - timedelta(weeks=DEFAULT_WEEKS - 1), monday + timedelta(days=6)


def chosen_range(chosen: ProgramRange, now: datetime, zone: ZoneInfo) -> tuple[date, date]:
    """The chosen days, the default filling what was left blank (8 weeks from or to a date)."""
    first, last = default_range(now, zone)
    span = timedelta(weeks=DEFAULT_WEEKS) - timedelta(days=1)
    if chosen.since is not None and chosen.until is not None:
        return chosen.since, chosen.until
    if chosen.since is not None:
        return chosen.since, chosen.since + span
    if chosen.until is not None:
        return chosen.until - span, chosen.until
    return first, last


@dataclass(frozen=True, slots=True)
class WeekRow:
    """One week of the capacity or no-show table."""

    start: datetime
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


@dataclass(frozen=True, slots=True)
class OutcomeRow:
    """One clinic's (or every clinic's) registry outcomes."""

    name: str
    outcomes: Outcomes


@dataclass(frozen=True, slots=True)
class ProgramDashboard:
    """The program, for the days `since` to `until` (both included), as of `now`."""

    since: date
    until: date
    zone: str
    now: datetime
    overall: Measures
    capacity: list[WeekRow]
    no_shows: list[WeekRow]
    turnaround: list[MeasureRow]
    turnaround_all: list[MeasureRow]
    closure: list[MeasureRow]
    closure_all: list[MeasureRow]
    registry: list[OutcomeRow]
    registry_all: OutcomeRow

    @property
    def open_econsults(self) -> int:
        """E-consults submitted in the range and not yet answered."""
        return self.overall.econsults - self.overall.answered

    @property
    def oldest_wait(self) -> str:
        """How long the oldest unacknowledged note has waited, in words."""
        return waited(self.now, self.overall.oldest_unacknowledged_at)


async def program_dashboard(
    conn: asyncpg.Connection, since: date, until: date, zone: ZoneInfo, now: datetime
) -> ProgramDashboard:
    """What the program dashboard shows for the days `since` to `until` on `zone`'s clock."""
    weeks = capacity.weeks_between(since, until, zone)
    whole = Period(weeks[0].start, weeks[-1].end)
    calendars = await scheduling_store.load_calendars(conn, None, whole, with_busy=False, now=now)
    booked = await capacity_store.booked_hours(conn, weeks)
    outcomes = await capacity_store.session_outcomes(conn, weeks)
    measures = await measure_store.program_measures(conn, whole.start, whole.end, now)
    spokes = {s.id: s.name for s in await spokes_store.list_spokes(conn)}
    people = {c.id: c.name for c in await hub_store.list_consultants(conn, include_inactive=True)}
    offered = capacity.weekly_capacity(calendars, weeks)
    overall = next(m for m in measures if m.level == "overall")
    today = now.astimezone(zone).date()
    registry = care_outcomes.summarise(
        await outcomes_store.episode_facts(conn, today), since=since, until=until, today=today
    )
    return ProgramDashboard(
        since=since,
        until=until,
        zone=zone.key,
        now=now,
        overall=overall,
        capacity=[
            WeekRow(w.start, o, b, _percent(b, o))
            for w, o, b in zip(weeks, offered, booked, strict=True)
        ],
        no_shows=[
            WeekRow(w.start, o.completed, o.no_show, o.no_show_rate)
            for w, o in zip(weeks, outcomes, strict=True)
        ],
        turnaround=_rows([m for m in measures if m.level == "consultant"], people, closure=False),
        turnaround_all=_rows([overall], {0: "All consultants"}, closure=False),
        closure=_rows([m for m in measures if m.level == "spoke"], spokes, closure=True),
        closure_all=_rows([overall], {0: "All spokes"}, closure=True),
        registry=sorted(
            (OutcomeRow(spokes.get(k, "a removed entry"), o) for k, o in registry.by_spoke.items()),
            key=lambda r: r.name,
        ),
        registry_all=OutcomeRow("All spokes", registry.total),
    )


def waited(now: datetime, since: datetime | None) -> str:
    """How long something has waited, in words: "3 days", "5 hours"."""
    if since is None:
        return ""
    hours = int((now - since).total_seconds() // 3600)
    if hours >= 48:
        return f"{hours // 24} days"
    return "1 hour" if hours == 1 else f"{max(hours, 0)} hours"


def _percent(part: float, whole: float) -> float | None:
    return 100.0 * part / whole if whole > 0 else None


def _rows(found: Sequence[Measures], names: dict[int, str], closure: bool) -> list[MeasureRow]:
    rows = [
        MeasureRow(
            names.get(m.key, "a removed entry"),
            m.notes_signed if closure else m.econsults,
            m.acknowledged if closure else m.answered,
            m.loop_closure_median_hours if closure else m.turnaround_median_hours,
            m.loop_closure_p90_hours if closure else m.turnaround_p90_hours,
        )
        for m in found
        if (m.notes_signed if closure else m.econsults)
    ]
    return sorted(rows, key=lambda r: r.name)
