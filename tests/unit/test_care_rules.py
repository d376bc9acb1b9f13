"""The registry's flag rules, each at its boundaries (care/rules.py): these read as the rules."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest

from care import rules
from care.rules import Facts, Score

TODAY = date(2027, 3, 1)


def facts(**fields: object) -> Facts:
    """A quiet collaborative care episode: 6 weeks in, contacted yesterday, reviewed."""
    base = Facts(
        program="collaborative_care",
        started_on=TODAY - timedelta(weeks=6),
        last_contact_on=TODAY - timedelta(days=1),
        last_review_on=TODAY - timedelta(days=7),
    )
    return replace(base, **fields)


def on(weeks_ago: int, score: int) -> Score:
    return Score(TODAY - timedelta(weeks=weeks_ago), score)


def test_a_quiet_episode_has_no_flag() -> None:
    assert rules.flags(facts(), TODAY) == ()


# --- safety: PHQ-9 item 9 -------------------------------------------------------------------


def test_item_9_at_0_is_not_a_safety_flag() -> None:
    assert "safety" not in rules.flags(facts(last_phq9_item9=0), TODAY)


def test_item_9_at_1_is_a_safety_flag() -> None:
    assert "safety" in rules.flags(facts(last_phq9_item9=1), TODAY)


def test_no_phq9_is_no_safety_flag() -> None:
    assert "safety" not in rules.flags(facts(last_phq9_item9=None), TODAY)


# --- not improving: less than a 50% fall after 10 weeks --------------------------------------


def _ten_weeks(first: int, last: int, *, weeks: int = 10, kind: str = "phq9") -> Facts:
    scores = {f"first_{kind}": on(weeks, first), f"last_{kind}": on(0, last)}
    return facts(started_on=TODAY - timedelta(weeks=weeks), **scores)


def test_at_10_weeks_exactly_a_fall_short_of_half_is_not_improving() -> None:
    assert "not_improving" in rules.flags(_ten_weeks(20, 11), TODAY)


def test_a_day_short_of_10_weeks_nothing_is_judged_yet() -> None:
    early = replace(_ten_weeks(20, 11), started_on=TODAY - timedelta(weeks=10) + timedelta(days=1))
    assert "not_improving" not in rules.flags(early, TODAY)


def test_a_50_percent_fall_exactly_is_a_response() -> None:
    assert "not_improving" not in rules.flags(_ten_weeks(20, 10), TODAY)
    assert rules.responded(on(10, 20), on(0, 10))
    assert not rules.responded(on(10, 20), on(0, 11))


def test_gad7_not_improving_flags_too() -> None:
    assert "not_improving" in rules.flags(_ten_weeks(14, 8, kind="gad7"), TODAY)
    assert "not_improving" not in rules.flags(_ten_weeks(14, 7, kind="gad7"), TODAY)


def test_a_first_score_of_0_cannot_be_not_improving() -> None:
    assert "not_improving" not in rules.flags(_ten_weeks(0, 3), TODAY)
    assert rules.change_percent(on(10, 0), on(0, 3)) is None


def test_change_percent_is_negative_for_a_fall() -> None:
    assert rules.change_percent(on(10, 20), on(0, 10)) == -50.0
    assert rules.change_percent(on(10, 12), on(0, 15)) == 25.0
    assert rules.change_percent(None, on(0, 15)) is None


# --- OUD: medication gaps and unexpected substances ------------------------------------------


@pytest.mark.parametrize(
    ("adherence", "flagged"),
    [("taking_as_prescribed", False), ("missed_doses", True), ("stopped", True)],
)
def test_a_moud_gap_is_missed_or_stopped_medication_in_oud(adherence: str, flagged: bool) -> None:
    oud = facts(program="oud", moud_medication="methadone", moud_adherence=adherence)
    assert ("moud_gap" in rules.flags(oud, TODAY)) is flagged


def test_a_moud_gap_is_never_raised_outside_oud() -> None:
    cc = facts(moud_medication="methadone", moud_adherence="stopped")
    assert "moud_gap" not in rules.flags(cc, TODAY)


@pytest.mark.parametrize("medication", ["buprenorphine", "buprenorphine_naloxone"])
def test_buprenorphine_on_a_buprenorphine_patients_screen_is_expected(medication: str) -> None:
    oud = facts(
        program="oud",
        moud_medication=medication,
        last_screen={"buprenorphine": "positive", "fentanyl": "negative"},
    )
    assert "positive_screen" not in rules.flags(oud, TODAY)


def test_methadone_on_a_buprenorphine_patients_screen_is_unexpected() -> None:
    screen = {"buprenorphine": "positive", "methadone": "positive"}
    assert rules.unexpected_substances(screen, "buprenorphine") == ["methadone"]
    oud = facts(program="oud", moud_medication="buprenorphine", last_screen=screen)
    assert "positive_screen" in rules.flags(oud, TODAY)


def test_methadone_on_a_methadone_patients_screen_is_expected_fentanyl_is_not() -> None:
    assert rules.unexpected_substances({"methadone": "positive"}, "methadone") == []
    screen = {"methadone": "positive", "fentanyl": "positive", "cocaine": "not_tested"}
    assert rules.unexpected_substances(screen, "methadone") == ["fentanyl"]


def test_an_unexpected_substance_flags_only_in_oud() -> None:
    screen = {"fentanyl": "positive"}
    assert "positive_screen" in rules.flags(facts(program="oud", last_screen=screen), TODAY)
    assert "positive_screen" not in rules.flags(facts(last_screen=screen), TODAY)


# --- no contact: four weeks ------------------------------------------------------------------


def test_27_days_without_contact_is_not_flagged_28_is() -> None:
    assert "no_contact" not in rules.flags(facts(last_contact_on=TODAY - timedelta(days=27)), TODAY)
    assert "no_contact" in rules.flags(facts(last_contact_on=TODAY - timedelta(days=28)), TODAY)


def test_without_any_contact_the_start_counts() -> None:
    young = facts(started_on=TODAY - timedelta(days=27), last_contact_on=None)
    old = facts(started_on=TODAY - timedelta(days=28), last_contact_on=None)
    assert "no_contact" not in rules.flags(young, TODAY)
    assert "no_contact" in rules.flags(old, TODAY)


# --- new and never reviewed ------------------------------------------------------------------


def test_13_days_in_is_new_14_is_not() -> None:
    assert "new" in rules.flags(facts(started_on=TODAY - timedelta(days=13)), TODAY)
    assert "new" not in rules.flags(facts(started_on=TODAY - timedelta(days=14)), TODAY)


def test_never_reviewed_until_a_review() -> None:
    assert "never_reviewed" in rules.flags(facts(last_review_on=None), TODAY)
    assert "never_reviewed" not in rules.flags(facts(), TODAY)


# --- order -----------------------------------------------------------------------------------


def test_flags_come_in_flag_order_and_rank_by_the_first() -> None:
    everything = facts(
        program="oud",
        started_on=TODAY - timedelta(weeks=12),
        first_phq9=on(12, 20),
        last_phq9=on(0, 19),
        last_phq9_item9=1,
        last_contact_on=None,
        last_review_on=None,
        moud_medication="methadone",
        moud_adherence="stopped",
        last_screen={"fentanyl": "positive"},
    )
    raised = rules.flags(everything, TODAY)
    assert raised == (
        "safety",
        "not_improving",
        "moud_gap",
        "positive_screen",
        "no_contact",
        "never_reviewed",
    )
    assert rules.first_flag_rank(raised) == 0
    assert rules.first_flag_rank(("new", "never_reviewed")) == rules.FLAG_ORDER.index("new")
    assert rules.first_flag_rank(()) == len(rules.FLAG_ORDER)


def test_weeks_in_treatment_are_whole_weeks() -> None:
    assert rules.weeks_in_treatment(TODAY - timedelta(days=13), TODAY) == 1
    assert rules.weeks_in_treatment(TODAY - timedelta(days=14), TODAY) == 2
    assert rules.weeks_in_treatment(TODAY + timedelta(days=1), TODAY) == 0


# --- severity bands at their edges -----------------------------------------------------------


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "moderately_severe"),
        (19, "moderately_severe"),
        (20, "severe"),
        (27, "severe"),
    ],
)
def test_phq9_severity_bands(score: int, band: str) -> None:
    assert rules.phq9_severity(score) == band


@pytest.mark.parametrize(
    ("score", "band"),
    [
        (0, "minimal"),
        (4, "minimal"),
        (5, "mild"),
        (9, "mild"),
        (10, "moderate"),
        (14, "moderate"),
        (15, "severe"),
        (21, "severe"),
    ],
)
def test_gad7_severity_bands(score: int, band: str) -> None:
    assert rules.gad7_severity(score) == band


def test_remission_is_a_phq9_below_5() -> None:
    assert rules.in_remission(4)
    assert not rules.in_remission(5)
