"""8. The registry's caseload: a clinic with 500 open episodes of care, 12 measures each
(PHQ-9 and GAD-7 taken in turn every two weeks or so; for an `oud` episode the last two are
a MOUD adherence check and a urine drug screen), three contacts each and a consultant's
review for most, read whole through `GET /api/v1/registry` one request at a time; p50 and
p99 against the issue's target (p99 < 100 ms).

The clinic, its care manager and its patients are the section's own (a new spoke), so the
other sections' clinics and calendars are untouched. The rows go in with plain SQL (COPY) for
speed; the section never writes through the API, it only reads. Every answer must list every
open episode of the clinic, and nothing of another clinic.
"""

from __future__ import annotations

import random
import time as clock
import uuid
from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
from asyncpg import Range

from bench.api import bearer
from bench.config import SEARCH_STATE
from bench.http import Connection
from bench.load import HOST
from bench.machine import wait_quiet
from bench.network import Network, bench_settings
from bench.stats import summary
from care import registry as care_registry
from spokes import store as spokes_store
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller, issue_access_token
from telehub.clients import create_client
from telehub.db import connect
from telehub.users import create_user

EPISODES = 500
MEASURES = 12
CONTACTS = 3
CLOSED = 40  # closed episodes the caseload must leave out
WARMUP = 3  # requests sent first and not timed
TARGET = "/api/v1/registry"


class Seeded:
    """What the section made: the clinic's token, its open episodes and its row counts."""

    def __init__(self, spoke_id: int, token: str, open_ids: set[str], rows: dict[str, int]):
        self.spoke_id = spoke_id
        self.token = token
        self.open_ids = open_ids
        self.rows = rows


def _phq9(rng: random.Random, level: float) -> list[int]:
    """Nine answers whose total is near `level` (0..27); item 9 mostly 0."""
    items = [min(3, max(0, round(level / 9 + rng.uniform(-0.8, 0.8)))) for _ in range(9)]
    items[8] = 1 if rng.random() < 0.02 else 0
    return items


def _gad7(rng: random.Random, level: float) -> list[int]:
    return [min(3, max(0, round(level / 7 + rng.uniform(-0.8, 0.8)))) for _ in range(7)]


def _measure_rows(
    rng: random.Random, episode: uuid.UUID, spoke_id: int, program: str, began: date, today: date
) -> list[tuple[Any, ...]]:
    """Twelve measures from the start, about every two weeks (never in the future)."""
    days = max(1, (today - began).days)
    start, improving = rng.uniform(12, 24), rng.random() < 0.6
    rows: list[tuple[Any, ...]] = []
    for n in range(MEASURES):
        on = began + timedelta(days=days * n // MEASURES)
        level = start * (1 - 0.7 * n / MEASURES) if improving else start + rng.uniform(-3, 3)
        kind = "phq9" if n % 2 == 0 else "gad7"
        items: list[int] | None = _phq9(rng, level) if kind == "phq9" else _gad7(rng, level)
        adherence = medication = dose = screen = None
        if program == "oud" and n == MEASURES - 2:
            kind, items = "moud", None
            adherence = rng.choice(["taking_as_prescribed"] * 8 + ["missed_doses", "stopped"])
            medication, dose = "buprenorphine_naloxone", 16.0
        elif program == "oud" and n == MEASURES - 1:
            kind, items = "urine_drug_screen", None
            fentanyl = "positive" if rng.random() < 0.1 else "negative"
            screen = f'{{"buprenorphine": "positive", "fentanyl": "{fentanyl}"}}'
        rows.append(
            (episode, spoke_id, kind, on, items, adherence, medication, dose, screen, "bench:seed")
        )
    return rows


async def seed(
    database_url: str, network: Network, today: date, episodes: int = EPISODES
) -> Seeded:
    """A clinic of its own with `episodes` open episodes (and a few closed ones), their
    measures, contacts and reviews, and a token for it."""
    rng = random.Random(13)  # synthetic data
    consultant = next(p for p in network.people if "case_review" in p.services)
    settings = bench_settings(database_url)
    now = datetime.now(UTC)
    conn = await asyncpg.connect(database_url)
    try:
        async with conn.transaction():
            spoke = await spokes_store.insert_spoke(
                conn,
                slug="bench-registry",
                name="Bench Registry Clinic",
                state=SEARCH_STATE,
                timezone="America/New_York",
            )
            client, _ = await create_client(
                conn, name="Bench Registry Clinic EHR", kind="spoke", spoke_id=spoke.id
            )
            manager = await create_user(
                conn,
                email="care.manager@bench-registry.telehub.test",
                name="Bench Care Manager",
                role="care_manager",
                password=uuid.uuid4().hex,
                spoke_id=spoke.id,
            )
            total = episodes + CLOSED
            patients = await conn.fetch(
                """
                INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state)
                SELECT $1::bigint, 'BENCH-REG-' || g, 'Given' || g, 'Registrypatient',
                       date '1950-01-01' + (g * 97 % 18000), $2
                FROM generate_series(1, $3) AS g
                RETURNING id
                """,
                spoke.id,
                SEARCH_STATE,
                total,
            )
            episode_rows, measure_rows, contact_rows = [], [], []
            open_ids: set[str] = set()
            for n, patient in enumerate(patients):
                episode = uuid.uuid4()
                program = "oud" if n % 4 == 0 else "collaborative_care"
                began = today - timedelta(days=rng.randint(7, 40 * 7))
                closed = n >= episodes
                ended = today - timedelta(days=1) if closed else None
                episode_rows.append(
                    (
                        episode,
                        spoke.id,
                        patient["id"],
                        program,
                        manager.id,
                        "Dr. Bench Clinician",
                        consultant.id,
                        began,
                        ended,
                        "remission" if closed else None,
                        "bench:seed",
                    )
                )
                if not closed:
                    open_ids.add(str(episode))
                measure_rows += _measure_rows(rng, episode, spoke.id, program, began, today)
                for c in range(CONTACTS):
                    on = min(today, began + timedelta(days=14 * c + rng.randint(0, 10)))
                    kind = rng.choice(["phone", "phone", "video", "in_person"])
                    contact_rows.append(
                        (episode, spoke.id, on, rng.randint(5, 45), kind, "patient", True)
                    )
            await conn.copy_records_to_table(
                "episodes",
                records=episode_rows,
                columns=[
                    "id",
                    "spoke_id",
                    "patient_id",
                    "program",
                    "care_manager_id",
                    "treating_clinician",
                    "consultant_id",
                    "started_on",
                    "ended_on",
                    "end_reason",
                    "created_by",
                ],
            )
            # COPY cannot cast text to jsonb from Python values: the screens go as text.
            await conn.executemany(
                """
                INSERT INTO care_measures (episode_id, spoke_id, kind, measured_on, items,
                    adherence, medication, daily_dose_mg, screen, recorded_by)
                VALUES ($1, $2, $3, $4, $5::smallint[], $6, $7, $8, $9::jsonb, $10)
                """,
                measure_rows,
            )
            await conn.copy_records_to_table(
                "care_contacts",
                records=[(*r, "bench:seed") for r in contact_rows],
                columns=[
                    "episode_id",
                    "spoke_id",
                    "contact_on",
                    "minutes",
                    "kind",
                    "who",
                    "counts",
                    "recorded_by",
                ],
            )
            reviewed = await _reviews(
                conn,
                rng,
                spoke.id,
                consultant.id,
                patients[0]["id"],
                [r[0] for r in episode_rows],
                now,
            )
        await conn.execute("ANALYZE")
    finally:
        await conn.close()
    caller = Caller("spoke", client.client_id, KIND_SCOPES["spoke"], spoke.id)
    return Seeded(
        spoke.id,
        issue_access_token(settings, caller),
        open_ids,
        {
            "open_episodes": len(open_ids),
            "closed_episodes": CLOSED,
            "measures": len(measure_rows),
            "contacts": len(contact_rows),
            "recommendations": reviewed,
        },
    )


async def _reviews(
    conn: asyncpg.Connection,
    rng: random.Random,
    spoke_id: int,
    consultant_id: int,
    patient_id: uuid.UUID,
    episode_ids: list[uuid.UUID],
    now: datetime,
) -> int:
    """One past case review (a completed booking long before the other sections' calendars)
    with a recommendation for about two episodes in three."""
    service_id = await conn.fetchval("SELECT id FROM services WHERE kind = 'case_review' LIMIT 1")
    start = datetime.combine(now.date() - timedelta(days=300), time(3), UTC)
    end = start + timedelta(minutes=30)
    booking_id = await conn.fetchval(
        """
        INSERT INTO bookings (service_id, consultant_id, spoke_id, patient_id, period, blocked,
                              status, reason, created_by)
        VALUES ($1, $2, $3, $4, $5, $5, 'completed', 'Systematic case review', 'bench:seed')
        RETURNING id
        """,
        service_id,
        consultant_id,
        spoke_id,
        patient_id,
        Range(start - timedelta(minutes=5), end + timedelta(minutes=5)),
    )
    chosen = [e for e in episode_ids if rng.random() < 0.66]
    await conn.copy_records_to_table(
        "recommendations",
        records=[
            (
                booking_id,
                e,
                spoke_id,
                consultant_id,
                rng.choice(["no_change", "adjust_medication", "add_psychotherapy"]),
                "Continue the plan; repeat PHQ-9 in four weeks.",
                "bench:seed",
                now - timedelta(days=rng.randint(1, 60)),
            )
            for e in chosen
        ],
        columns=[
            "booking_id",
            "episode_id",
            "spoke_id",
            "consultant_id",
            "choice",
            "text",
            "recorded_by",
            "recorded_at",
        ],
    )
    return len(chosen)


async def caseload(
    port: int,
    database_url: str,
    network: Network,
    *,
    samples: int,
    quiet_wait_s: float,
    today: date,
    episodes: int = EPISODES,
) -> dict[str, Any]:
    """`samples` reads of the whole caseload, one at a time, after WARMUP untimed ones."""
    began = clock.perf_counter()
    made = await seed(database_url, network, today, episodes)
    seed_seconds = round(clock.perf_counter() - began, 1)
    busy_before = await wait_quiet(quiet_wait_s)
    conn = Connection(HOST, port)
    times: list[float] = []
    statuses: Counter[int] = Counter()
    complete = 0
    sizes: list[int] = []
    try:
        for n in range(samples + WARMUP):
            started = clock.perf_counter()
            answer = await conn.request("GET", TARGET, bearer(made.token))
            seconds = clock.perf_counter() - started
            statuses[answer.status] += 1
            if n >= WARMUP:
                times.append(seconds)
            if answer.status == 200:
                sizes.append(len(answer.body))
                complete += _exactly(answer.json(), made)
    finally:
        conn.close()
    in_process = await _in_process(database_url, made, samples, today)
    return {
        "episodes": made.rows,
        "measures_per_episode": MEASURES,
        "latency": summary(times),
        "domain_function_latency": summary(in_process),
        "statuses": {str(k): v for k, v in sorted(statuses.items())},
        "answers_listing_exactly_the_open_episodes": complete,
        "answers": samples + WARMUP,
        "body_kb": round(sum(sizes) / len(sizes) / 1024, 1) if sizes else 0,
        "method": f"one request at a time on one server, the clinic's own token, after "
        f"{WARMUP} untimed",
        "machine_busy_before": busy_before,
        "seed_seconds": seed_seconds,
    }


async def _in_process(database_url: str, made: Seeded, samples: int, today: date) -> list[float]:
    """The same caseload through `care.registry.caseload` in this process (its SQL and its
    audit rows, each read rolled back), without HTTP, JSON or the server: where the time goes."""
    caller = Caller("spoke", "bench-registry", KIND_SCOPES["spoke"], made.spoke_id)
    trail = Trail(caller.actor)
    times: list[float] = []
    conn = await connect(database_url)  # with telehub's codecs (jsonb)
    try:
        for n in range(samples + WARMUP):
            transaction = conn.transaction()
            await transaction.start()
            started = clock.perf_counter()
            rows = await care_registry.caseload(conn, caller, trail, today=today)
            seconds = clock.perf_counter() - started
            await transaction.rollback()
            assert len(rows) == len(made.open_ids)
            if n >= WARMUP:
                times.append(seconds)
    finally:
        await conn.close()
    return times


def _exactly(body: Any, made: Seeded) -> int:
    """1 when the answer (`{"rows": [{"episode_id", "spoke_id", ...}]}`) lists every open
    episode of the clinic once, and nothing of another clinic."""
    rows = body["rows"]
    seen = {r["episode_id"] for r in rows}
    own = all(r["spoke_id"] == made.spoke_id for r in rows)
    return int(own and seen == made.open_ids and len(rows) == len(made.open_ids))
