"""The registry's program outcomes for the coordinator: pure definitions over episode facts.

`summarise(facts, since=, until=, today=)` gives, per clinic and in total:
- response (a fall of at least half the first PHQ-9) and remission (a PHQ-9 below 5), among the
  episodes with a PHQ-9 taken in weeks 10 to 14 of treatment (the latest in that window), whose
  PHQ-9 was taken in the chosen days;
- the share of open episodes with a contact in the last 4 weeks, and the share ever reviewed by
  a consultant (a recommendation), as of today;
- for `oud`, MOUD retention at 90 and 180 days, as of today.
Every threshold comes from `care.rules`; the SQL that gathers the facts is `care.outcomes_store`.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

from care import rules
from care.rules import Score

# The outcome is read at 10 to 14 whole weeks of treatment: from the week the rules call a patient
# not improving, for five weeks (a PHQ-9 is due about monthly, so one falls in the window).
OUTCOME_FIRST_WEEK: Final = rules.NOT_IMPROVING_AFTER // timedelta(weeks=1)
OUTCOME_LAST_WEEK: Final = OUTCOME_FIRST_WEEK + 4
# MOUD retention is read at these days of treatment.
RETENTION_DAYS: Final = (90, 180)


@dataclass(frozen=True, slots=True)
class MoudRecord:
    """One MOUD adherence record: the day and what it said."""

    measured_on: date
    adherence: str


@dataclass(frozen=True, slots=True)
class EpisodeFacts:
    """What the outcomes read about one episode (PHQ-9s and MOUD records oldest first)."""

    spoke_id: int
    program: str
    started_on: date
    ended_on: date | None = None
    phq9: Sequence[Score] = ()
    last_contact_on: date | None = None
    reviewed: bool = False
    moud: Sequence[MoudRecord] = ()
    episode_id: uuid.UUID | None = None

    def open_on(self, day: date) -> bool:
        """Begun by `day` and not closed on or before it."""
        return self.started_on <= day and (self.ended_on is None or self.ended_on > day)


@dataclass(frozen=True, slots=True)
class Share:
    """`done` of `of` episodes; `percent` is None when there is nothing to count."""

    done: int = 0
    of: int = 0

    @property
    def percent(self) -> float | None:
        """done / of as a percentage."""
        return 100.0 * self.done / self.of if self.of else None

    def __add__(self, other: Share) -> Share:
        return Share(self.done + other.done, self.of + other.of)


@dataclass(frozen=True, slots=True)
class Outcomes:
    """One clinic's (or the network's) outcomes."""

    response: Share = field(default_factory=Share)
    remission: Share = field(default_factory=Share)
    contacted: Share = field(default_factory=Share)
    reviewed: Share = field(default_factory=Share)
    retention_90: Share = field(default_factory=Share)
    retention_180: Share = field(default_factory=Share)

    def __add__(self, other: Outcomes) -> Outcomes:
        return Outcomes(
            self.response + other.response,
            self.remission + other.remission,
            self.contacted + other.contacted,
            self.reviewed + other.reviewed,
            self.retention_90 + other.retention_90,
            self.retention_180 + other.retention_180,
        )


def outcome_phq9(started_on: date, phq9: Iterable[Score]) -> Score | None:
    """The latest PHQ-9 taken in weeks 10 to 14 of treatment (None if none was)."""
    inside = [
        s
        for s in phq9
        if OUTCOME_FIRST_WEEK
        <= rules.weeks_in_treatment(started_on, s.measured_on)
        <= OUTCOME_LAST_WEEK
    ]
    return max(inside, key=lambda s: s.measured_on, default=None)


def first_phq9(phq9: Iterable[Score]) -> Score | None:
    """The episode's first PHQ-9, its baseline."""
    return min(phq9, key=lambda s: s.measured_on, default=None)


def contacted_recently(last_contact_on: date | None, today: date) -> bool:
    """A contact within the last 4 weeks: the episode is not flagged for no contact."""
    return last_contact_on is not None and today - last_contact_on < rules.NO_CONTACT_AFTER


def retention_day(started_on: date, days: int) -> date:
    """The day of treatment at which retention is read."""
    return started_on + timedelta(days=days)


def retained(facts: EpisodeFacts, days: int) -> bool:
    """Still in treatment on day `days`: the episode open then (or closed later) and the latest
    MOUD record on or before that day not `stopped` (no record is not retained)."""
    day = retention_day(facts.started_on, days)
    if facts.ended_on is not None and facts.ended_on <= day:
        return False
    before = [m for m in facts.moud if m.measured_on <= day]
    latest = max(before, key=lambda m: m.measured_on, default=None)
    return latest is not None and latest.adherence != "stopped"


def episode_outcomes(facts: EpisodeFacts, *, since: date, until: date, today: date) -> Outcomes:
    """One episode's contribution to its clinic's outcomes (each share 0 or 1 of 0 or 1)."""
    response = remission = contacted = reviewed = Share()
    read = outcome_phq9(facts.started_on, facts.phq9)
    if read is not None and since <= read.measured_on <= until:
        first = first_phq9(facts.phq9)
        response = Share(int(rules.responded(first, read)), 1)
        remission = Share(int(rules.in_remission(read.score)), 1)
    if facts.open_on(today):
        contacted = Share(int(contacted_recently(facts.last_contact_on, today)), 1)
        reviewed = Share(int(facts.reviewed), 1)
    retention = {days: Share() for days in RETENTION_DAYS}
    if facts.program == "oud":
        for days in RETENTION_DAYS:
            if retention_day(facts.started_on, days) <= today:
                retention[days] = Share(int(retained(facts, days)), 1)
    return Outcomes(response, remission, contacted, reviewed, retention[90], retention[180])


@dataclass(frozen=True, slots=True)
class ProgramOutcomes:
    """The outcomes of each clinic (by spoke id) and of the whole network."""

    by_spoke: dict[int, Outcomes]
    total: Outcomes


def summarise(
    facts: Iterable[EpisodeFacts], *, since: date, until: date, today: date
) -> ProgramOutcomes:
    """Every clinic's outcomes and the total, for PHQ-9s read `since` to `until`, as of `today`."""
    by_spoke: dict[int, Outcomes] = {}
    for one in facts:
        counted = episode_outcomes(one, since=since, until=until, today=today)
        by_spoke[one.spoke_id] = by_spoke.get(one.spoke_id, Outcomes()) + counted
    return ProgramOutcomes(by_spoke, sum(by_spoke.values(), Outcomes()))
