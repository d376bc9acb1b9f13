"""Sizes of one benchmark run (full or smoke), the targets, and shared constants."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any

# Every telehub process of a run shares these: tokens minted by the bench name this issuer.
SECRET_KEY = "bench-secret-key-" + "b" * 40
BASE_URL = "http://telehub.bench"
# The bench mints its own tokens for an hour (a run is shorter); the servers must accept them,
# since a server refuses tokens that live longer than it would issue (TELEHUB_ACCESS_TOKEN_TTL).
ACCESS_TOKEN_TTL = 3600
SEARCH_STATE = "VT"  # every consultant is licensed here: a search sees the whole hub
POOL_MIN = 2  # telehub's defaults (TELEHUB_DB_POOL_MIN / MAX); the baseline uses the same
POOL_MAX = 10


@dataclass(frozen=True, slots=True)
class Sizes:
    """How big the generated network is and how long each measurement runs."""

    consultants: int
    spokes: int
    patients_per_spoke: int
    weeks: int
    existing_bookings: int
    feed_consultants: int
    feed_events: int
    search_samples_7: int
    search_samples_28: int
    search_warmup: int
    concurrency: int
    warmup_s: float
    duration_s: float
    quiet_wait_s: float  # before each measurement, wait at most this long for an idle machine
    rounds: int  # interleaved baseline/telehub throughput rounds
    scale_rounds: int  # interleaved one/two-process rounds
    contended_clients: int
    contended_slots: int
    contended_rounds: int
    feed_warm_samples: int
    feed_304_samples: int
    series_samples: int  # series of 12 weekly sessions booked (and as many single bookings)
    registry_episodes: int  # open episodes of the registry section's clinic (12 measures each)
    registry_samples: int  # timed reads of its whole caseload

    def as_dict(self) -> dict[str, Any]:
        """The sizes, for results.json."""
        return asdict(self)


FULL = Sizes(
    consultants=50,
    spokes=20,
    patients_per_spoke=50,
    weeks=8,
    existing_bookings=5000,
    feed_consultants=3,
    feed_events=2000,
    search_samples_7=200,
    search_samples_28=100,
    search_warmup=10,
    concurrency=32,
    warmup_s=2.0,
    duration_s=8.0,
    quiet_wait_s=12.0,
    rounds=3,
    scale_rounds=2,
    contended_clients=100,
    contended_slots=10,
    contended_rounds=5,
    feed_warm_samples=20,
    feed_304_samples=200,
    series_samples=100,
    registry_episodes=500,
    registry_samples=200,
)

SMOKE = Sizes(
    consultants=8,
    spokes=3,
    patients_per_spoke=4,
    weeks=4,
    existing_bookings=40,
    feed_consultants=1,
    feed_events=60,
    search_samples_7=5,
    search_samples_28=3,
    search_warmup=1,
    concurrency=4,
    warmup_s=0.2,
    duration_s=0.5,
    quiet_wait_s=0.0,
    rounds=1,
    scale_rounds=1,
    contended_clients=12,
    contended_slots=3,
    contended_rounds=1,
    feed_warm_samples=2,
    feed_304_samples=5,
    series_samples=3,
    registry_episodes=20,
    registry_samples=3,
)


@dataclass(frozen=True, slots=True)
class Target:
    """A figure the issue sets a goal for: below a limit, or at least a floor."""

    key: str
    label: str
    limit: float
    at_least: bool = False

    @property
    def text(self) -> str:
        """How the table shows the goal."""
        unit = "" if self.at_least else " ms"
        return f"{'>=' if self.at_least else '<'} {self.limit:g}{unit}"

    def met(self, value: float) -> bool:
        """Whether `value` meets the goal."""
        return value >= self.limit if self.at_least else value < self.limit


TARGETS = {
    t.key: t
    for t in (
        Target("search_7_p99_ms", "slot search, 7 days, p99", 50),
        Target("search_28_p99_ms", "slot search, 28 days, p99", 150),
        Target("booking_ratio", "bookings/s ÷ baseline requests/s", 0.30, at_least=True),
        Target("registry_p99_ms", "registry caseload, p99", 100),
    )
}


@dataclass(frozen=True, slots=True)
class ScaleSizes:
    """The cost curves' sizes (`python -m bench scale`): each curve measured at every size."""

    search_consultants: tuple[int, ...]
    existing_bookings: tuple[int, ...]
    feed_events: tuple[int, ...]
    registry_episodes: tuple[int, ...]
    limit_days: tuple[int, ...]  # windows searched with `limit`
    drain_events: int  # events queued for the outbox drain, once per process count
    base: Sizes  # the network each point is generated from (consultants, weeks, samples...)
    search_samples: int
    booking_seconds: float
    feed_change_samples: int
    limit: int = 10
    drain_processes: tuple[int, ...] = (1, 2)

    def as_dict(self) -> dict[str, Any]:
        """The sizes, for results.json (the base network's only by its consultants)."""
        made = asdict(self)
        made["base"] = {"consultants": self.base.consultants, "weeks": self.base.weeks}
        return made


SCALE_FULL = ScaleSizes(
    search_consultants=(50, 200, 500),
    existing_bookings=(5_000, 100_000, 1_000_000),
    feed_events=(500, 2_000, 8_000),
    registry_episodes=(100, 500, 2_000),
    limit_days=(7, 28, 92),
    drain_events=10_000,
    base=replace(FULL, existing_bookings=0, feed_consultants=0, weeks=5),
    search_samples=100,
    booking_seconds=8.0,
    feed_change_samples=10,
)

# A quick run (a few minutes on a small VM): the same curves at smaller sizes.
SCALE_QUICK = ScaleSizes(
    search_consultants=(25, 50, 100),
    existing_bookings=(5_000, 50_000, 200_000),
    feed_events=(500, 2_000, 8_000),
    registry_episodes=(100, 500, 2_000),
    limit_days=(7, 28, 92),
    drain_events=10_000,
    base=replace(FULL, existing_bookings=0, feed_consultants=0, weeks=5, quiet_wait_s=2.0),
    search_samples=50,
    booking_seconds=4.0,
    feed_change_samples=5,
)

SCALE_SMOKE = ScaleSizes(
    search_consultants=(3, 5, 8),
    existing_bookings=(50, 200, 800),
    feed_events=(20, 60, 150),
    registry_episodes=(5, 10, 20),
    limit_days=(7, 28, 92),
    drain_events=60,
    base=replace(SMOKE, existing_bookings=0, feed_consultants=0),
    search_samples=3,
    booking_seconds=0.5,
    feed_change_samples=2,
)
