"""Request and response models of a group's seats and its waitlist (issue 12)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from telehub.validation import Input, Output, UtcDatetime

MAX_POSITION = 52  # a group has at most 52 occurrences (migration 017)

Attendance = Literal["expected", "excused", "attended", "no_show", "released"]
WaitStatus = Literal["waiting", "assigned", "left"]


class EnrolIn(Input):
    """A seat for one of the clinic's patients in every remaining occurrence from `from` on."""

    patient_id: uuid.UUID
    from_: int | None = Field(
        None,
        alias="from",
        ge=1,
        le=MAX_POSITION,
        description="1-based occurrence to start at; the first remaining one when left out",
    )


class WithdrawIn(Input):
    """Give up the seat from one occurrence on (earlier ones are kept)."""

    from_: int = Field(alias="from", ge=1, le=MAX_POSITION, description="1-based occurrence")


class ExcuseIn(Input):
    """The patient will miss one occurrence and keeps the seat."""

    position: int = Field(ge=1, le=MAX_POSITION, description="1-based occurrence")


class WaitIn(Input):
    """Put one of the clinic's patients on a full group's waitlist."""

    patient_id: uuid.UUID


class SeatOut(Output):
    """The patient's seat in one occurrence."""

    position: int
    start: UtcDatetime
    end: UtcDatetime
    seat_no: int = Field(description="1..capacity, unique in the occurrence while held")
    attendance: Attendance


class EnrolmentOut(Output):
    """A patient's place in a group: a seat in each occurrence from `from_position` on."""

    id: uuid.UUID
    group_id: uuid.UUID
    patient_id: uuid.UUID
    from_position: int
    withdrawn_from: int | None
    created_at: UtcDatetime
    seats: list[SeatOut] = Field(description="By position; released ones after a withdrawal")


class WaitOut(Output):
    """A patient's place on a group's waitlist."""

    id: uuid.UUID
    group_id: uuid.UUID
    patient_id: uuid.UUID
    status: WaitStatus
    place: int | None = Field(description="1 is next for a freed seat; only while waiting")
    enrolment_id: uuid.UUID | None = Field(description="The seats it was given, once assigned")
    created_at: UtcDatetime


class FullOccurrenceOut(Output):
    """An occurrence with no seat left."""

    position: int
    start: UtcDatetime


class GroupFullOut(Output):
    """The body of a 409 /problems/group-full (beside type, title, status, detail)."""

    full: list[FullOccurrenceOut]
