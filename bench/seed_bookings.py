"""Existing bookings, computed from the availability grid so none overlaps another.

The network's bookings are open slots (as telehub's own slot engine lays them out) of the
services each consultant offers, picked at random and kept only when their buffered time
misses every booking kept before: exactly what the exclusion constraint demands. The feed
consultants get a dense calendar from a month back to six months ahead.
"""

from __future__ import annotations

import random
import secrets
from bisect import bisect_left
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg
from asyncpg import Range

from bench.config import SEARCH_STATE
from bench.network import Network, Person
from scheduling.slots import ConsultantCalendar, Period, WeeklyRule, open_slots
from scheduling.store import Service

VIRTUAL = {"video_session", "case_review"}
COLUMNS = [
    "service_id",
    "consultant_id",
    "spoke_id",
    "patient_id",
    "period",
    "blocked",
    "status",
    "reason",
    "video_link",
    "created_by",
    "created_at",
    "updated_at",
]


@dataclass(frozen=True, slots=True)
class Planned:
    """One booking to insert."""

    service: Service
    consultant: Person
    start: datetime
    end: datetime

    @property
    def blocked(self) -> tuple[datetime, datetime]:
        """The period widened by the service's buffers."""
        return (
            self.start - timedelta(minutes=self.service.buffer_before_minutes),
            self.end + timedelta(minutes=self.service.buffer_after_minutes),
        )


def _calendar(person: Person) -> ConsultantCalendar:
    rules = tuple(
        WeeklyRule(r.weekday, r.start_time, r.end_time, None, r.valid_from, r.valid_until)
        for r in person.rules
    )
    off = tuple(Period(e.start, e.end) for e in person.time_off)
    return ConsultantCalendar(person.id, ZoneInfo(person.zone), rules, person.states, (), off)


class _Kept:
    """Disjoint half-open intervals, sorted by start."""

    def __init__(self) -> None:
        self.starts: list[datetime] = []
        self.ends: list[datetime] = []

    def add_if_free(self, a: datetime, b: datetime) -> bool:
        i = bisect_left(self.starts, a)
        if i < len(self.starts) and self.starts[i] < b:
            return False
        if i > 0 and self.ends[i - 1] > a:
            return False
        self.starts.insert(i, a)
        self.ends.insert(i, b)
        return True


def plan_network_bookings(
    network: Network, count: int, now: datetime, rng: random.Random
) -> list[Planned]:
    """`count` non-overlapping bookings spread over the consultants and their services."""
    people = network.people
    end = datetime.combine(network.last_day + timedelta(days=1), time(0), UTC)
    window = Period(now, end)
    planned: list[Planned] = []
    for n, person in enumerate(people):
        quota = count // len(people) + (1 if n < count % len(people) else 0)
        calendar = _calendar(person)
        candidates = [
            Planned(network.services[key], person, s.start, s.end)
            for key in person.services
            for s in open_slots([calendar], network.services[key].terms, window, now, SEARCH_STATE)
        ]
        rng.shuffle(candidates)
        kept = _Kept()
        for c in candidates:
            if quota == 0:
                break
            if kept.add_if_free(*c.blocked):
                planned.append(c)
                quota -= 1
    return planned


def plan_feed_bookings(network: Network, person: Person, events: int, today: date) -> list[Planned]:
    """`events` half-hour e-consult reviews on weekdays 08:00-18:00, from a month back on."""
    zone = ZoneInfo(person.zone)
    service = network.services["econsult"]
    grid = []
    day = today - timedelta(days=29)
    while day < today + timedelta(days=179):
        if day.weekday() < 5:
            for k in range(20):
                start = datetime.combine(day, time(8), zone) + timedelta(minutes=30 * k)
                grid.append(start.astimezone(UTC))
        day += timedelta(days=1)
    if events > len(grid):
        raise ValueError(f"a feed consultant's calendar holds at most {len(grid)} events")
    # Spread evenly over the window: every k-th half hour.
    picked = [grid[int(i * len(grid) / events)] for i in range(events)]
    return [Planned(service, person, s, s + timedelta(minutes=30)) for s in picked]


async def insert(
    conn: asyncpg.Connection,
    network: Network,
    planned: list[Planned],
    now: datetime,
    rng: random.Random,
) -> int:
    """COPY the planned bookings in; past ones are completed. Returns the number inserted."""
    records = []
    for p in planned:
        spoke = network.spoke_for(p.consultant.states, rng)
        made = min(now, p.start) - timedelta(days=rng.randint(1, 20))
        link = (
            f"https://video.telehub.example/room/{secrets.token_urlsafe(16)}"
            if p.service.kind in VIRTUAL
            else None
        )
        records.append(
            (
                p.service.id,
                p.consultant.id,
                spoke.id,
                rng.choice(spoke.patients),
                Range(p.start, p.end),
                Range(*p.blocked),
                "completed" if p.end <= now else "booked",
                "Follow-up",
                link,
                "bench:seed",
                made,
                made,
            )
        )
    await conn.copy_records_to_table("bookings", records=records, columns=COLUMNS)
    return len(records)
