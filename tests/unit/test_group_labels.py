"""Every code of a group, a seat and a waitlist reads as words, on both sides of the loop."""

from __future__ import annotations

from typing import get_args

from scheduling.groups_schemas import Attendance, OccurrenceStatus
from telehub import labels

WAITLIST = ("waiting", "assigned", "left", "told")


def test_every_occurrence_status_and_attendance_has_words_for_both_audiences() -> None:
    for audience in ("clinic", "hub"):
        for code in (*get_args(OccurrenceStatus), *get_args(Attendance)):
            assert code in labels.STATUS_BY_AUDIENCE[audience], (audience, code)


def test_every_waitlist_status_has_words_for_both_audiences() -> None:
    for audience in ("clinic", "hub"):
        for code in WAITLIST:
            assert code in labels.WAITLIST_STATUS_BY_AUDIENCE[audience], (audience, code)
            assert labels.label(code, "waitlist_status", audience) != code


def test_a_seat_given_from_the_waitlist_is_not_an_econsult_with_a_consultant() -> None:
    assert labels.label("assigned", "waitlist_status", "clinic") == "given a seat"
    assert labels.label("assigned", "status", "clinic") == "with a consultant"
    assert labels.label("released", "status", "hub") == "seat released"
    assert labels.label("no_show", "status", "hub") == "no-show"
    assert labels.label("group_session", "kind") == "Group session"
