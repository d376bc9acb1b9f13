"""Request and response models of the groups API: a counselor's group that clinics join."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal, Self

from pydantic import Field, model_validator

from telehub.fields import Id, Instant, OneLine, Text, UsState
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

Repeat = Literal["once", "weekly", "every_2_weeks"]
OccurrenceStatus = Literal["scheduled", "cancelled"]
Attendance = Literal["expected", "excused", "attended", "no_show", "released"]
MAX_OCCURRENCES = 52
MIN_CAPACITY, MAX_CAPACITY = 2, 30


class GroupIn(Input):
    """A new group: a counselor's time held for every occurrence, seats for several clinics."""

    service_id: Id = Field(description="A service of kind group_session")
    consultant_id: Id = Field(description="The counselor who runs the group")
    title: OneLine = Field(
        min_length=1, max_length=200, description="What clinics read, e.g. 'MOUD support group'"
    )
    capacity: int = Field(ge=MIN_CAPACITY, le=MAX_CAPACITY, description="Seats per occurrence")
    first_start: Instant = Field(
        description="The first occurrence; later ones keep its wall-clock time in the "
        "counselor's time zone"
    )
    repeat: Repeat
    count: int | None = Field(
        None, ge=1, le=MAX_OCCURRENCES, description="How many occurrences; or give until"
    )
    until: date | None = Field(None, description="Last date (counselor's zone); or give count")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.count is None) == (self.until is None):
            raise FieldNamedError("count", "give exactly one of count and until")
        if self.repeat == "once" and self.count != 1:
            raise FieldNamedError("count", "a group held once has count 1")
        return self


class SeatOut(Output):
    """One patient's seat in one occurrence (a clinic sees only its own patients' seats)."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    seat_no: int
    attendance: Attendance


class OccurrenceOut(Output):
    """One meeting of a group."""

    position: int = Field(description="1-based")
    start: UtcDatetime
    end: UtcDatetime
    status: OccurrenceStatus
    seats_taken: int
    capacity: int
    roster: list[SeatOut] = Field(
        description="The hub sees every seat; a clinic only its own patients' seats"
    )


class GroupOut(Output):
    """A group and its occurrences, by position."""

    id: uuid.UUID
    service_id: int
    consultant_id: int
    title: str
    capacity: int
    repeat: Repeat
    count: int
    first_start: UtcDatetime
    zone: str = Field(description="The counselor's time zone, whose wall-clock time it keeps")
    created_at: UtcDatetime
    occurrences: list[OccurrenceOut]


class GroupsOut(Output):
    """Groups with an open seat, by their next open occurrence."""

    groups: list[GroupOut]


class GroupQuery(Input):
    """Which groups to find: a service, a window, and where the patient is."""

    service_id: Id
    start: Instant
    end: Instant
    patient_state: UsState = Field(description="The counselor must be licensed here")

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.end <= self.start:
            raise FieldNamedError("end", "must be after start")
        return self


class GroupCancelIn(Input):
    """Cancel one occurrence and every later one; earlier ones are kept."""

    from_: int = Field(alias="from", ge=1, le=MAX_OCCURRENCES, description="1-based position")
    reason: Text = Field(min_length=1, max_length=500)


class TakenOccurrenceOut(Output):
    """An occurrence whose time the counselor already has held."""

    position: int
    start: UtcDatetime
    end: UtcDatetime
    held_by: Literal["booking", "group"]
