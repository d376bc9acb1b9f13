"""Request and response models of the 1:1 waitlist API: tell me when an earlier time opens."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal, Self

from pydantic import Field, model_validator

from scheduling.schemas import SlotOut
from telehub.fields import ConsultantRole, Id, UsState
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

WaitStatus = Literal["waiting", "told", "left"]
_LAST_DAY = date(2199, 12, 31)


class WaitlistIn(Input):
    """Tell the clinic when a time of the service opens on or before `latest_date`."""

    service_id: Id
    consultant_id: Id | None = Field(None, description="Only this consultant; or give role")
    role: ConsultantRole | None = Field(None, description="Any consultant of this role")
    patient_state: UsState = Field(description="Where the patient is: the consultant's license")
    latest_date: date = Field(
        le=_LAST_DAY, description="The latest acceptable date, in the clinic's time zone"
    )
    patient_id: uuid.UUID | None = Field(None, description="The clinic's patient, if named")

    @model_validator(mode="after")
    def _one_of(self) -> Self:
        if self.consultant_id is not None and self.role is not None:
            raise FieldNamedError("consultant_id", "give consultant_id or role, not both")
        return self


class WaitlistQuery(Input):
    """Which of the clinic's requests to list."""

    include_left: bool = Field(False, description="Also those the clinic left")


class WaitlistOut(Output):
    """One request on the clinic's waitlist, and the last slot it was told of."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID | None
    service_id: int
    consultant_id: int | None
    role: str | None
    patient_state: str
    latest_date: date
    status: WaitStatus = Field(
        description="waiting; told (of `told`, and still waiting for another time); left"
    )
    told: SlotOut | None = Field(description="The last slot it was told of (maybe gone since)")
    told_at: UtcDatetime | None
    created_at: UtcDatetime
    settled_at: UtcDatetime | None


class WaitlistListOut(Output):
    """The clinic's requests, oldest first."""

    requests: list[WaitlistOut]
