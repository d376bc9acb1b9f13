"""The registry's rules: who needs attention, and why. Pure: facts and today in, flags out.

Every threshold is named here once; `tests/unit/test_care_rules.py` reads as these rules.
The agenda of a systematic case review, the caseload's order and the consultant's worklist
all take their order from `FLAG_ORDER`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Final, Literal, get_args

Program = Literal["collaborative_care", "oud"]
Flag = Literal[
    "safety",
    "not_improving",
    "moud_gap",
    "positive_screen",
    "no_contact",
    "new",
    "never_reviewed",
]
Adherence = Literal["taking_as_prescribed", "missed_doses", "stopped"]

# Who comes first on an agenda or a caseload: safety, then the patient not improving, the
# OUD flags (a missed or stopped medication, an unexpected substance), no contact, new, and
# never reviewed.
FLAG_ORDER: Final[tuple[Flag, ...]] = get_args(Flag)

# A fall of at least half the first score is a response (the model's target line).
RESPONSE_FALL: Final = 0.5
# Weeks in treatment after which a patient without that fall is not improving.
NOT_IMPROVING_AFTER: Final = timedelta(weeks=10)
# No contact for this long flags the patient.
NO_CONTACT_AFTER: Final = timedelta(weeks=4)
# An episode this young is new.
NEW_FOR: Final = timedelta(weeks=2)
# A PHQ-9 below this is remission.
REMISSION_BELOW: Final = 5
# PHQ-9 item 9 ("thoughts that you would be better off dead, or of hurting yourself").
SAFETY_ITEM: Final = 9
PHQ9_ITEMS: Final = 9
GAD7_ITEMS: Final = 7
ITEM_MAX: Final = 3
# Adherence that is a gap in medication for opioid use disorder.
MOUD_GAP: Final[frozenset[Adherence]] = frozenset({"missed_doses", "stopped"})
# What a positive screen is expected to show for a patient on that medication.
EXPECTED_ON: Final[Mapping[str, frozenset[str]]] = {
    "buprenorphine": frozenset({"buprenorphine"}),
    "buprenorphine_naloxone": frozenset({"buprenorphine"}),
    "buprenorphine_extended_release": frozenset({"buprenorphine"}),
    "methadone": frozenset({"methadone"}),
}

# Severity bands, by the lowest score of each (Kroenke 2001; Spitzer 2006).
PHQ9_SEVERITY: Final[tuple[tuple[int, str], ...]] = (
    (20, "severe"),
    (15, "moderately_severe"),
    (10, "moderate"),
    (5, "mild"),
    (0, "minimal"),
)
GAD7_SEVERITY: Final[tuple[tuple[int, str], ...]] = (
    (15, "severe"),
    (10, "moderate"),
    (5, "mild"),
    (0, "minimal"),
)


@dataclass(frozen=True, slots=True)
class Score:
    """A questionnaire's total on the day it was taken."""

    measured_on: date
    score: int


@dataclass(frozen=True, slots=True)
class Facts:
    """What the rules read about one open episode (each `last_*` is the latest by date)."""

    program: Program
    started_on: date
    first_phq9: Score | None = None
    last_phq9: Score | None = None
    last_phq9_item9: int | None = None
    first_gad7: Score | None = None
    last_gad7: Score | None = None
    last_contact_on: date | None = None
    last_review_on: date | None = None
    moud_medication: str | None = None
    moud_adherence: Adherence | None = None
    last_screen: Mapping[str, str] | None = None


def flags(facts: Facts, today: date) -> tuple[Flag, ...]:
    """The episode's flags, in `FLAG_ORDER`."""
    raised: set[Flag] = set()
    if facts.last_phq9_item9 is not None and facts.last_phq9_item9 > 0:
        raised.add("safety")
    if today - facts.started_on >= NOT_IMPROVING_AFTER and (
        not_improving(facts.first_phq9, facts.last_phq9)
        or not_improving(facts.first_gad7, facts.last_gad7)
    ):
        raised.add("not_improving")
    if facts.program == "oud":
        if facts.moud_adherence in MOUD_GAP:
            raised.add("moud_gap")
        if unexpected_substances(facts.last_screen or {}, facts.moud_medication):
            raised.add("positive_screen")
    if today - (facts.last_contact_on or facts.started_on) >= NO_CONTACT_AFTER:
        raised.add("no_contact")
    if today - facts.started_on < NEW_FOR:
        raised.add("new")
    if facts.last_review_on is None:
        raised.add("never_reviewed")
    return tuple(f for f in FLAG_ORDER if f in raised)


def not_improving(first: Score | None, last: Score | None) -> bool:
    """Less than a 50% fall from the first score to the latest (a first score of 0 has no
    room to fall, and no score has nothing to say)."""
    if first is None or last is None or first.score == 0:
        return False
    return last.score > first.score * (1 - RESPONSE_FALL)


def change_percent(first: Score | None, last: Score | None) -> float | None:
    """The change from the first score to the latest, in percent of the first (a fall is
    negative); None without both, or from a first score of 0."""
    if first is None or last is None or first.score == 0:
        return None
    return round((last.score - first.score) * 100 / first.score, 1)


def responded(first: Score | None, last: Score | None) -> bool:
    """A fall of at least 50% from the first score."""
    return (
        first is not None
        and last is not None
        and first.score > 0
        and not not_improving(first, last)
    )


def in_remission(score: int) -> bool:
    """A PHQ-9 below 5."""
    return score < REMISSION_BELOW


def weeks_in_treatment(started_on: date, today: date) -> int:
    """Whole weeks since the episode began."""
    return max(0, (today - started_on).days // 7)


def unexpected_substances(results: Mapping[str, str], medication: str | None) -> list[str]:
    """The substances a screen found that the patient's medication does not explain."""
    expected = EXPECTED_ON.get(medication or "", frozenset())
    return sorted(s for s, r in results.items() if r == "positive" and s not in expected)


def phq9_severity(score: int) -> str:
    """The PHQ-9 band of a total: minimal, mild, moderate, moderately severe, severe."""
    return _band(score, PHQ9_SEVERITY)


def gad7_severity(score: int) -> str:
    """The GAD-7 band of a total: minimal, mild, moderate, severe."""
    return _band(score, GAD7_SEVERITY)


def _band(score: int, bands: tuple[tuple[int, str], ...]) -> str:
    return next(name for lowest, name in bands if score >= lowest)


def first_flag_rank(raised: tuple[Flag, ...]) -> int:
    """Where a patient with these flags stands in an agenda or caseload (lower is sooner);
    a patient with no flag comes after every flagged one."""
    return min((FLAG_ORDER.index(f) for f in raised), default=len(FLAG_ORDER))
