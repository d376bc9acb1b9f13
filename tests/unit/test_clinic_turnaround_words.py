"""How the e-consult form words the hub's answer time and opening hours."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from consults.turnaround import BusinessHours
from spokes.consult_views import business_hours_words, business_time_words

NINE_TO_FIVE = BusinessHours(ZoneInfo("America/New_York"), time(8), time(17))


def test_hours_that_make_whole_business_days_are_said_in_days() -> None:
    assert business_time_words(NINE_TO_FIVE, 9) == "1 business day"
    assert business_time_words(NINE_TO_FIVE, 18) == "2 business days"


def test_hours_that_do_not_are_said_in_hours_with_about_how_many_days() -> None:
    assert business_time_words(NINE_TO_FIVE, 48) == "48 business hours, about 5 business days"
    assert business_time_words(NINE_TO_FIVE, 8) == "8 business hours"


def test_the_opening_hours_name_the_days_the_hours_and_the_zone() -> None:
    assert business_hours_words(NINE_TO_FIVE) == "Mon to Fri, 08:00 to 17:00, America/New York time"
    three_days = BusinessHours(
        ZoneInfo("America/Chicago"), time(9), time(13), workdays=frozenset({0, 2, 4})
    )
    assert business_hours_words(three_days) == "Mon, Wed, Fri, 09:00 to 13:00, America/Chicago time"
