"""One table of words for each set of codes, covering every code the schemas allow."""

from __future__ import annotations

from typing import get_args

from consults.schemas import EconsultStatus
from scheduling.schemas import BookingStatus
from telehub import labels


def test_every_status_has_words_on_both_sides_of_the_loop() -> None:
    for audience in ("clinic", "hub"):
        for status in (*get_args(BookingStatus), *get_args(EconsultStatus)):
            assert status in labels.STATUS_BY_AUDIENCE[audience]


def test_the_same_status_reads_as_each_side_lives_it() -> None:
    assert labels.label("awaiting_clinic", "status", "clinic") == "waiting on your answer"
    assert labels.label("awaiting_clinic", "status", "hub") == "awaiting clinic (clock paused)"


def test_codes_read_as_words() -> None:
    assert labels.label("video_session", "kind") == "Video session"
    assert labels.label("telehealth_counselor", "consultant_role") == "Telehealth counselor"
    assert labels.options("kind")[0] == ("econsult", "E-consult")


def test_an_unknown_code_still_reads_as_words() -> None:
    assert labels.label("home_visit", "kind") == "home visit"
