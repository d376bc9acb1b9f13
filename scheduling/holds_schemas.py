"""Request and response models of the slot holds API (issue 15)."""

from __future__ import annotations

import uuid
from typing import Literal

from pydantic import Field

from telehub.fields import Id, Instant
from telehub.validation import Input, Output, UtcDatetime

HoldStatus = Literal["active", "booked", "released", "expired"]


class HoldIn(Input):
    """Hold an open slot (as offered by GET /api/v1/slots) while the booking is completed."""

    service_id: Id
    consultant_id: Id
    start: Instant
    patient_id: uuid.UUID | None = Field(
        None, description="The clinic's patient, if already chosen (checked for licensing)"
    )


class HoldOut(Output):
    """A clinic's hold on a slot: book it with POST /api/v1/bookings and `hold_id`."""

    id: uuid.UUID
    spoke_id: int
    service_id: int
    consultant_id: int
    patient_id: uuid.UUID | None
    start: UtcDatetime
    end: UtcDatetime
    expires_at: UtcDatetime = Field(description="After this the slot is open to anyone again")
    status: HoldStatus = Field(description="A lapsed active hold reads as expired")
    booking_id: uuid.UUID | None = Field(description="The booking the hold became")
    created_at: UtcDatetime
