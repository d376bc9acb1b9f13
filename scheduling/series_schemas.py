"""Request and response models of the series API: a course of sessions booked as one."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal, Self

from pydantic import Field, model_validator

from scheduling.schemas import BookingOut
from telehub.fields import ConsultantRole, Id, Instant, Text
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

Repeat = Literal["weekly", "every_2_weeks"]
MAX_OCCURRENCES = 26


class Override(Input):
    """Another start for one occurrence (2 or later), chosen from the conflict's alternatives."""

    occurrence: int = Field(ge=2, le=MAX_OCCURRENCES, description="1-based position in the series")
    start: Instant


class SeriesIn(Input):
    """A course of sessions for one of the clinic's patients: all booked, or none."""

    service_id: Id
    consultant_id: Id | None = Field(None, description="This consultant; or give role instead")
    role: ConsultantRole | None = Field(
        None, description="Any consultant of this role who has every occurrence open"
    )
    patient_id: uuid.UUID
    first_start: Instant = Field(
        description="The first session; later ones keep its wall-clock "
        "time in the clinic's time zone"
    )
    repeat: Repeat
    count: int | None = Field(None, ge=1, le=MAX_OCCURRENCES, description="Or give until")
    until: date | None = Field(None, description="Last date (clinic's zone); or give count")
    reason: Text = Field("", max_length=2000)
    overrides: list[Override] = Field(default_factory=list, max_length=MAX_OCCURRENCES)

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.consultant_id is None) == (self.role is None):
            raise FieldNamedError("consultant_id", "give exactly one of consultant_id and role")
        if (self.count is None) == (self.until is None):
            raise FieldNamedError("count", "give exactly one of count and until")
        seen: set[int] = set()
        for i, o in enumerate(self.overrides):
            if o.occurrence in seen:
                raise FieldNamedError(f"overrides.{i}.occurrence", "is overridden twice")
            if self.count is not None and o.occurrence > self.count:
                raise FieldNamedError(
                    f"overrides.{i}.occurrence", f"the series has only {self.count} sessions"
                )
            seen.add(o.occurrence)
        return self


class SeriesOut(Output):
    """A course of sessions and its bookings, by position."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    service_id: int
    consultant_id: int
    repeat: Repeat
    count: int
    first_start: UtcDatetime
    zone: str = Field(description="The clinic's time zone, whose wall-clock time sessions keep")
    reason: str
    created_at: UtcDatetime
    bookings: list[BookingOut] = Field(description="Its sessions by position (series_position)")


class SeriesListOut(Output):
    """A patient's series, newest first."""

    series: list[SeriesOut]


class CancelFromIn(Input):
    """Cancel one session and every later one; earlier ones are kept."""

    from_: int = Field(alias="from", ge=1, le=MAX_OCCURRENCES, description="1-based position")
    reason: Text = Field(min_length=1, max_length=500)


class ConflictOccurrenceOut(Output):
    """An occurrence that is not open, why, and the nearest open times to choose instead."""

    position: int
    start: UtcDatetime
    end: UtcDatetime
    reason: str = Field(description="Why it is not open, in words for the clinic")
    alternatives: list[UtcDatetime] = Field(
        description="Nearest open starts with the same consultant: same day first, then nearby"
    )


class SeriesConflictOut(Output):
    """The body of a 409 /problems/series-conflict (beside type, title, status, detail)."""

    consultant_id: int
    not_open: list[ConflictOccurrenceOut]


class SeriesQuery(Input):
    """Which series to list: one patient's."""

    patient_id: uuid.UUID
