"""The registry's program outcomes read as their definitions: response and remission at 10 to 14
weeks, contact in the last 4 weeks, reviewed by a consultant, MOUD retention at 90 and 180 days."""

from __future__ import annotations

from datetime import date, timedelta

from care.outcomes import (
    EpisodeFacts,
    MoudRecord,
    Share,
    episode_outcomes,
    outcome_phq9,
    retained,
    summarise,
)
from care.rules import Score

BEGAN = date(2027, 1, 4)
TODAY = date(2027, 12, 31)
RANGE = {"since": date(2027, 1, 1), "until": date(2027, 12, 31), "today": TODAY}


def week(n: int, day: int = 0) -> date:
    """The day `day` of week `n` of treatment."""
    return BEGAN + timedelta(weeks=n, days=day)


def depression(
    *scores: tuple[date, int],
    ended_on: date | None = None,
    last_contact_on: date | None = None,
    reviewed: bool = False,
) -> EpisodeFacts:
    """A collaborative care episode begun on BEGAN with these PHQ-9s."""
    return EpisodeFacts(
        spoke_id=1,
        program="collaborative_care",
        started_on=BEGAN,
        ended_on=ended_on,
        phq9=tuple(Score(d, s) for d, s in scores),
        last_contact_on=last_contact_on,
        reviewed=reviewed,
    )


def test_a_phq9_in_week_10_or_week_14_is_read_and_one_in_week_9_or_15_is_not() -> None:
    for inside in (week(10), week(14, 6)):
        assert outcome_phq9(BEGAN, [Score(inside, 7)]) == Score(inside, 7)
    for outside in (week(9, 6), week(15)):
        assert outcome_phq9(BEGAN, [Score(outside, 7)]) is None


def test_the_latest_phq9_in_the_window_is_the_one_read() -> None:
    scores = [Score(BEGAN, 20), Score(week(10), 12), Score(week(13), 9), Score(week(16), 3)]
    assert outcome_phq9(BEGAN, scores) == Score(week(13), 9)


def test_exactly_half_the_first_score_is_a_response_and_one_more_is_not() -> None:
    half = episode_outcomes(depression((BEGAN, 20), (week(12), 10)), **RANGE)
    assert half.response == Share(1, 1)
    more = episode_outcomes(depression((BEGAN, 20), (week(12), 11)), **RANGE)
    assert more.response == Share(0, 1)


def test_a_phq9_of_4_is_remission_and_5_is_not() -> None:
    four = episode_outcomes(depression((BEGAN, 20), (week(12), 4)), **RANGE)
    five = episode_outcomes(depression((BEGAN, 20), (week(12), 5)), **RANGE)
    assert (four.remission, five.remission) == (Share(1, 1), Share(0, 1))


def test_an_episode_without_a_phq9_in_the_window_is_not_in_the_denominator() -> None:
    counted = episode_outcomes(depression((BEGAN, 20), (week(9), 2), (week(15), 2)), **RANGE)
    assert (counted.response, counted.remission) == (Share(0, 0), Share(0, 0))


def test_a_phq9_read_outside_the_chosen_days_is_not_counted() -> None:
    facts = depression((BEGAN, 20), (week(12), 4))
    shown = episode_outcomes(facts, since=week(13), until=week(20), today=TODAY)
    assert shown.remission == Share(0, 0)


def test_contact_within_4_weeks_counts_and_4_weeks_ago_does_not() -> None:
    today = week(20)
    recent = depression(last_contact_on=today - timedelta(days=27))
    stale = depression(last_contact_on=today - timedelta(weeks=4))
    never = depression()
    got = [
        episode_outcomes(f, since=BEGAN, until=today, today=today).contacted
        for f in (recent, stale, never)
    ]
    assert got == [Share(1, 1), Share(0, 1), Share(0, 1)]


def test_closed_episodes_are_not_in_the_contact_or_review_denominators() -> None:
    closed = depression(ended_on=week(8), reviewed=True, last_contact_on=week(8))
    counted = episode_outcomes(closed, since=BEGAN, until=week(20), today=week(20))
    assert (counted.contacted, counted.reviewed) == (Share(0, 0), Share(0, 0))
    reviewed = episode_outcomes(depression(reviewed=True), **RANGE)
    assert reviewed.reviewed == Share(1, 1)


def oud(*records: tuple[int, str], ended_after: int | None = None) -> EpisodeFacts:
    """An OUD episode begun on BEGAN with MOUD records on these days of treatment."""
    return EpisodeFacts(
        spoke_id=1,
        program="oud",
        started_on=BEGAN,
        ended_on=None if ended_after is None else BEGAN + timedelta(days=ended_after),
        moud=tuple(MoudRecord(BEGAN + timedelta(days=d), a) for d, a in records),
    )


def test_stopped_before_day_90_is_not_retained_and_stopped_after_it_is() -> None:
    assert not retained(oud((10, "taking_as_prescribed"), (80, "stopped")), 90)
    assert retained(oud((10, "taking_as_prescribed"), (100, "stopped")), 90)
    assert not retained(oud((10, "taking_as_prescribed"), (100, "stopped")), 180)


def test_missed_doses_still_count_as_retained_but_no_record_does_not() -> None:
    assert retained(oud((85, "missed_doses")), 90)
    assert not retained(oud(), 90)


def test_closed_by_day_90_is_not_retained_and_closed_later_is() -> None:
    assert not retained(oud((10, "taking_as_prescribed"), ended_after=90), 90)
    assert retained(oud((10, "taking_as_prescribed"), ended_after=91), 90)


def test_retention_counts_only_episodes_begun_at_least_that_long_ago() -> None:
    facts = oud((10, "taking_as_prescribed"))
    on_day_100 = episode_outcomes(
        facts, since=BEGAN, until=week(20), today=BEGAN + timedelta(days=100)
    )
    assert (on_day_100.retention_90, on_day_100.retention_180) == (Share(1, 1), Share(0, 0))
    depression_only = episode_outcomes(depression(), **RANGE)
    assert depression_only.retention_90 == Share(0, 0)


def test_each_clinic_and_the_total_add_up() -> None:
    a = depression((BEGAN, 20), (week(12), 4))
    b = EpisodeFacts(
        spoke_id=2,
        program="collaborative_care",
        started_on=BEGAN,
        phq9=(Score(BEGAN, 20), Score(week(12), 15)),
    )
    summary = summarise([a, b, a], **RANGE)
    assert summary.by_spoke[1].response == Share(2, 2)
    assert summary.by_spoke[2].response == Share(0, 1)
    assert summary.total.response == Share(2, 3)
    assert summary.total.remission.percent is not None
    assert round(summary.total.remission.percent, 1) == 66.7
    assert Share().percent is None
