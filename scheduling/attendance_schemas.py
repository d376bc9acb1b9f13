"""Request and response models of the attendance API: who came to a group's occurrence."""

from __future__ import annotations

import uuid
from typing import Literal, Self

from pydantic import Field, model_validator

from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

Attendance = Literal["attended", "no_show", "excused"]


class Mark(Input):
    """One patient's attendance, named by their enrolment or by their seat number."""

    enrolment_id: uuid.UUID | None = Field(None, description="The patient's enrolment; or seat")
    seat: int | None = Field(None, ge=1, le=30, description="The seat number; or enrolment_id")
    attendance: Attendance

    @model_validator(mode="after")
    def _one_name(self) -> Self:
        if (self.enrolment_id is None) == (self.seat is None):
            raise FieldNamedError("enrolment_id", "give exactly one of enrolment_id and seat")
        return self


class AttendanceIn(Input):
    """Attendance for some or all of an occurrence's seats, recorded at once (all or none)."""

    attendance: list[Mark] = Field(min_length=1, max_length=30)


class SeatOut(Output):
    """A held seat of the occurrence and its attendance ('expected' until recorded)."""

    seat: int
    enrolment_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    attendance: Literal["expected", "attended", "no_show", "excused"]
    recorded_at: UtcDatetime | None


class RosterOut(Output):
    """An occurrence's roster (the hub's view: every clinic's patients)."""

    group_id: uuid.UUID
    position: int
    start: UtcDatetime
    end: UtcDatetime
    capacity: int
    status: Literal["scheduled", "cancelled"]
    seats: list[SeatOut]
