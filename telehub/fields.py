"""Field types shared by the packages' request and response models."""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from pydantic import AfterValidator, AwareDatetime, Field, WithJsonSchema

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


# What breaks a line or hides text: C0 and C1 controls (newline, CR, tab, NUL, NEL...), the
# Unicode line and paragraph separators, and invisible format characters (bidi overrides,
# zero-width spaces, BOM). ZWNJ and ZWJ (U+200C, U+200D) stay: some scripts spell names with them.
_BREAKS_A_LINE = (
    "\\u0000-\\u001f\\u007f-\\u009f\\u00ad\\u200b\\u200e\\u200f\\u2028-\\u202e"
    "\\u2060-\\u2064\\u2066-\\u206f\\ufeff\\ufff9-\\ufffb"
)
ONE_LINE_PATTERN = f"^[^{_BREAKS_A_LINE}]*$"  # in the OpenAPI document: ECMA-262 syntax
# Multi-line text keeps tab, newline and CR, and refuses the other controls.
TEXT_PATTERN = "^[^\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f\\u007f]*$"
_ONE_LINE = re.compile(ONE_LINE_PATTERN)
_TEXT = re.compile(TEXT_PATTERN)


def _one_line(value: str) -> str:
    if not _ONE_LINE.fullmatch(value):
        raise ValueError("must be one line of text, without control or invisible characters")
    return value


def _text(value: str) -> str:
    if not _TEXT.fullmatch(value):
        raise ValueError("must be text: tab and line breaks only, no other control characters")
    return value


def _plausible_instant(value: datetime) -> datetime:
    # Far-off years overflow when moved to UTC or widened by a day; no schedule needs them.
    if not 1900 <= value.year <= 2200:
        raise ValueError("must be between the years 1900 and 2200")
    return value


# One line of text: a name, a title, credentials, an MRN, a short note. Every one-line text
# field of the API's models (and so of the pages, which read forms into the same models).
OneLine = Annotated[
    str, AfterValidator(_one_line), Field(json_schema_extra={"pattern": ONE_LINE_PATTERN})
]
# Free text that may run over several lines: a question, a reason, a note's sections.
Text = Annotated[str, AfterValidator(_text), Field(json_schema_extra={"pattern": TEXT_PATTERN})]
# Every instant an API accepts: RFC 3339 with an offset, in a sane range of years (the
# pattern tells a schema-driven client the years; `format` alone cannot).
INSTANT_PATTERN = r"^(19\d\d|2[01]\d\d|2200)-"
Instant = Annotated[
    AwareDatetime,
    AfterValidator(_plausible_instant),
    Field(json_schema_extra={"pattern": INSTANT_PATTERN}),
]
# A local wall-clock time (a weekly rule's start or end): no offset, so not `format: time`,
# which in JSON Schema requires one.
LOCAL_TIME_PATTERN = r"^\d{2}:\d{2}(:\d{2})?$"
LocalTime = Annotated[
    time,
    WithJsonSchema({"type": "string", "pattern": LOCAL_TIME_PATTERN, "examples": ["09:00"]}),
]
UsState = Annotated[
    str,
    AfterValidator(_state),
    Field(examples=["VT"], json_schema_extra={"enum": sorted(US_STATES)}),
]
TimeZoneName = Annotated[str, AfterValidator(_zone), Field(examples=["America/New_York"])]
Id = Annotated[int, Field(ge=1, le=2**62)]
ServiceKind = Literal["econsult", "video_session", "case_review", "group_session"]
ConsultantRole = Literal[
    "psychiatric_consultant",
    "addiction_medicine_specialist",
    "telehealth_counselor",
    "peer_recovery_specialist",
]
