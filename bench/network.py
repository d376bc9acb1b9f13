"""The generated hub-and-spoke network: services, consultants and their hours, spokes, patients.

Everything goes through telehub's own stores except the bulk rows (patients, bookings),
which are plain SQL. Deterministic for a given seed and day.
"""

from __future__ import annotations

import dataclasses
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg

from bench.config import ACCESS_TOKEN_TTL, BASE_URL, SEARCH_STATE, SECRET_KEY, Sizes
from hub import store as hub_store
from scheduling import services
from scheduling import store as scheduling_store
from spokes import store as spokes_store
from telehub.auth import KIND_SCOPES, Caller, issue_access_token
from telehub.clients import create_client
from telehub.settings import Settings

PSYCH = ["psychiatric_consultant", "addiction_medicine_specialist"]
COUNSEL = ["telehealth_counselor", "peer_recovery_specialist"]
# The searched service: a video visit every consultant of the hub offers.
SERVICES: dict[str, dict[str, Any]] = {
    "video": dict(
        kind="video_session",
        name="Video visit: MOUD management",
        duration_minutes=30,
        buffer_after_minutes=10,
        min_notice_minutes=120,
        horizon_days=90,
        roles=PSYCH + COUNSEL,
    ),
    "counseling": dict(
        kind="video_session",
        name="Video counseling session",
        duration_minutes=50,
        buffer_after_minutes=10,
        min_notice_minutes=240,
        horizon_days=90,
        roles=COUNSEL,
    ),
    "econsult": dict(
        kind="econsult",
        name="E-consult review",
        duration_minutes=30,
        turnaround_hours=48,
        horizon_days=90,
        roles=PSYCH,
    ),
    "case_review": dict(
        kind="case_review",
        name="Case review with care manager",
        duration_minutes=30,
        buffer_before_minutes=5,
        buffer_after_minutes=5,
        min_notice_minutes=60,
        horizon_days=90,
        roles=PSYCH,
    ),
}
ZONES = ["America/New_York"] * 3 + ["America/Chicago", "America/Denver", "America/Los_Angeles"]
OTHER_STATES = ["NH", "ME", "NY", "MA", "TX", "NM", "WA"]
STATE_ZONES = {
    "VT": "America/New_York",
    "NH": "America/New_York",
    "ME": "America/New_York",
    "NY": "America/New_York",
    "MA": "America/New_York",
    "TX": "America/Chicago",
    "NM": "America/Denver",
    "WA": "America/Los_Angeles",
}


@dataclass(frozen=True, slots=True)
class SpokeCaller:
    """A spoke clinic as the load generator uses it: its token and its patients."""

    id: int
    state: str
    token: str
    patients: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Person:
    """A consultant as the bench knows them."""

    id: int
    zone: str
    states: frozenset[str]
    services: tuple[str, ...]  # keys of SERVICES
    rules: tuple[scheduling_store.RuleRow, ...]
    time_off: tuple[scheduling_store.ExceptionRow, ...] = ()


@dataclass
class Network:
    """What the scenarios need to drive the API."""

    services: dict[str, scheduling_store.Service]
    people: list[Person]
    spokes: list[SpokeCaller]
    hub_token: str
    first_day: date
    last_day: date
    feed_people: list[Person] = field(default_factory=list)
    _by_state: dict[str, list[SpokeCaller]] = field(default_factory=dict)
    _licensed: dict[int, frozenset[str]] = field(default_factory=dict)

    @property
    def search_service(self) -> scheduling_store.Service:
        """The service slot search and bookings use."""
        return self.services["video"]

    def licensed(self, consultant_id: int) -> frozenset[str]:
        """Where a consultant may see patients."""
        if not self._licensed:
            self._licensed = {p.id: p.states for p in [*self.people, *self.feed_people]}
        return self._licensed[consultant_id]

    def spoke_for(self, states: frozenset[str], rng: random.Random) -> SpokeCaller:
        """A random spoke whose patients live where the consultant is licensed."""
        if not self._by_state:
            for spoke in self.spokes:
                self._by_state.setdefault(spoke.state, []).append(spoke)
        eligible = [s for st in sorted(states) for s in self._by_state.get(st, [])]
        return rng.choice(eligible)


def bench_settings(database_url: str) -> Settings:
    """Settings sharing the servers' key and issuer; tokens last an hour (a run is shorter)."""
    return Settings(
        database_url=database_url,
        secret_key=SECRET_KEY,
        base_url=BASE_URL,
        access_token_ttl=ACCESS_TOKEN_TTL,
    )


def _hours(rng: random.Random, first: date, last: date) -> list[scheduling_store.RuleRow]:
    """Weekly hours: most work Monday to Friday, some four days; a morning and an afternoon."""
    days = list(range(5)) if rng.random() < 0.8 else sorted(rng.sample(range(5), 4))
    opens = rng.choice([time(7), time(8), time(8, 30), time(9), time(10)])
    morning = timedelta(hours=rng.choice([3, 3.5, 4]))
    lunch = timedelta(hours=rng.choice([0.5, 1]))
    afternoon = timedelta(hours=rng.choice([3, 4, 4.5]))
    start = datetime.combine(first, opens)
    blocks = [
        (start, start + morning),
        (start + morning + lunch, start + morning + lunch + afternoon),
    ]
    return [
        scheduling_store.RuleRow(d, a.time(), b.time(), None, first, last)
        for d in days
        for a, b in blocks
    ]


async def _services(conn: asyncpg.Connection) -> dict[str, scheduling_store.Service]:
    return {key: await services.create(conn, **spec) for key, spec in SERVICES.items()}


async def _consultant(
    conn: asyncpg.Connection,
    n: int,
    made: dict[str, scheduling_store.Service],
    person: Person,
    role: str,
) -> Person:
    created = await hub_store.insert_consultant(
        conn,
        name=f"Bench Consultant {n:03d}",
        credentials="MD" if role in PSYCH else "LICSW",
        role=role,
        timezone=person.zone,
        licensed_states=sorted(person.states),
        service_ids=[made[k].id for k in person.services],
    )
    await scheduling_store.replace_availability(
        conn, created.id, list(person.rules), list(person.time_off)
    )
    return dataclasses.replace(person, id=created.id)


def _person(rng: random.Random, first: date, last: date, role: str) -> Person:
    states = frozenset({SEARCH_STATE, *rng.sample(OTHER_STATES, rng.randint(1, 4))})
    offered = ("video", "counseling") if role in COUNSEL else ("video", "econsult", "case_review")
    time_off: tuple[scheduling_store.ExceptionRow, ...] = ()
    if rng.random() < 0.1:  # a conference or a couple of days of leave
        day = first + timedelta(days=rng.randrange(7, max(8, (last - first).days - 3)))
        off = datetime.combine(day, time(0), UTC)
        time_off = (
            scheduling_store.ExceptionRow("time_off", off, off + timedelta(days=2), None, "Leave"),
        )
    return Person(0, rng.choice(ZONES), states, offered, tuple(_hours(rng, first, last)), time_off)


async def _spokes(conn: asyncpg.Connection, settings: Settings, sizes: Sizes) -> list[SpokeCaller]:
    states = [SEARCH_STATE, *OTHER_STATES]
    made = []
    for n in range(sizes.spokes):
        state = states[n % len(states)]
        spoke = await spokes_store.insert_spoke(
            conn,
            slug=f"bench-spoke-{n:03d}",
            name=f"Bench Clinic {n:03d}",
            state=state,
            timezone=STATE_ZONES[state],
        )
        client, _ = await create_client(
            conn, name=f"Bench Clinic {n:03d} EHR", kind="spoke", spoke_id=spoke.id
        )
        rows = await conn.fetch(
            """
            INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state)
            SELECT $1::bigint, 'BENCH-' || $1::bigint || '-' || g, 'Given' || g, 'Benchpatient',
                   date '1950-01-01' + (g * 97 % 18000), $2
            FROM generate_series(1, $3) AS g
            RETURNING id
            """,
            spoke.id,
            state,
            sizes.patients_per_spoke,
        )
        caller = Caller("spoke", client.client_id, KIND_SCOPES["spoke"], spoke.id)
        token = issue_access_token(settings, caller)
        made.append(SpokeCaller(spoke.id, state, token, tuple(str(r["id"]) for r in rows)))
    return made


async def create_network(
    conn: asyncpg.Connection, settings: Settings, sizes: Sizes, today: date, seed: int = 2027
) -> Network:
    """Services, consultants with weekly hours for `sizes.weeks` weeks, spokes and patients."""
    rng = random.Random(seed)  # synthetic data, not secrets
    first, last = today, today + timedelta(weeks=sizes.weeks, days=-1)
    async with conn.transaction():
        made = await _services(conn)
        people = []
        for n in range(sizes.consultants):
            role = rng.choice(PSYCH) if n % 5 < 3 else rng.choice(COUNSEL)
            people.append(await _consultant(conn, n, made, _person(rng, first, last, role), role))
        feed_people = []
        # Feed consultants: busy e-consult reviewers whose calendars span the feed's window.
        feed_first, feed_last = today - timedelta(days=35), today + timedelta(days=185)
        for n in range(sizes.feed_consultants):
            rules = tuple(
                scheduling_store.RuleRow(d, time(8), time(18), None, feed_first, feed_last)
                for d in range(5)
            )
            person = Person(0, "America/New_York", frozenset({SEARCH_STATE}), ("econsult",), rules)
            feed_people.append(await _consultant(conn, 900 + n, made, person, PSYCH[0]))
        spokes = await _spokes(conn, settings, sizes)
    hub = Caller("hub_admin", "bench-hub", KIND_SCOPES["hub_admin"])
    return Network(
        made, people, spokes, issue_access_token(settings, hub), first, last, feed_people
    )
