"""What a typed search means: a birth date only when it is a real YYYY-MM-DD date."""

from __future__ import annotations

from datetime import date

import pytest

from spokes.patients import birth_date_in


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("1965-01-21", date(1965, 1, 21)),
        (" 1965-01-21 ", date(1965, 1, 21)),
        ("1965-02-30", None),  # no such day: searched as text, which finds no name
        ("21/01/1965", None),
        ("19650121", None),  # an MRN, perhaps
        ("Jamie", None),
        ("", None),
    ],
)
def test_a_birth_date_is_read_only_from_a_real_iso_date(typed: str, read: date | None) -> None:
    assert birth_date_in(typed) == read
