"""Field types shared by the packages' request and response models."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, AwareDatetime, Field

US_STATES = frozenset(
    """
    AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH
    NJ NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA VI WA WV WI WY GU AS MP
    """.split()  # noqa: SIM905 - a table of codes reads better as text
)


def _state(value: str) -> str:
    code = value.upper()
    if code not in US_STATES:
        raise ValueError("must be a two-letter US state or territory code, such as VT")
    return code


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone, such as America/New_York") from None
    if value not in available_timezones() and value != "UTC":
        raise ValueError("must be an IANA time zone, such as America/New_York")
    return value


def _plausible_instant(value: datetime) -> datetime:
    # Far-off years overflow when moved to UTC or widened by a day; no schedule needs them.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


# Every instant an API accepts: RFC 3339 with an offset, in a sane range of years.
Instant = Annotated[AwareDatetime, AfterValidator(_plausible_instant)]
UsState = Annotated[str, AfterValidator(_state), Field(examples=["VT"])]
TimeZoneName = Annotated[str, AfterValidator(_zone), Field(examples=["America/New_York"])]
Id = Annotated[int, Field(ge=1, le=2**62)]
ServiceKind = Literal["econsult", "video_session", "case_review"]
ConsultantRole = Literal[
    "psychiatric_consultant",
    "addiction_medicine_specialist",
    "telehealth_counselor",
    "peer_recovery_specialist",
]
