"""Request and response models of the scheduling API."""

from __future__ import annotations

import uuid
from datetime import date, time
from typing import Any, Literal, Self, get_args

from pydantic import Field, model_validator

from scheduling import store
from scheduling.availability import MAX_LIMIT, MAX_SEARCH
from telehub.fields import (
    ConsultantRole,
    Id,
    Instant,
    LocalTime,
    OneLine,
    ServiceKind,
    Text,
    UsState,
)
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
WEEKDAYS: tuple[Weekday, ...] = get_args(Weekday)  # index = date.weekday()


class ServiceIn(Input):
    """A new service the hub offers."""

    kind: ServiceKind
    name: OneLine = Field(min_length=1, max_length=200)
    duration_minutes: int = Field(ge=5, le=480)
    buffer_before_minutes: int = Field(0, ge=0, le=120)
    buffer_after_minutes: int = Field(0, ge=0, le=120)
    interval_minutes: int | None = Field(
        None, ge=5, le=480, description="Distance between slot starts; default: duration + buffers"
    )
    min_notice_minutes: int = Field(0, ge=0, le=43200)
    horizon_days: int = Field(60, ge=1, le=365)
    turnaround_hours: int | None = Field(None, ge=1, le=720, description="E-consult answer SLA")
    roles: list[ConsultantRole] = Field(min_length=1, description="Roles that may deliver it")


class ServiceOut(Output):
    """A service: e-consult, video session or case review."""

    id: int
    kind: ServiceKind
    name: str
    duration_minutes: int
    buffer_before_minutes: int
    buffer_after_minutes: int
    interval_minutes: int | None
    min_notice_minutes: int
    horizon_days: int
    turnaround_hours: int | None
    roles: list[str]


class ServicesOut(Output):
    """The hub's services."""

    services: list[ServiceOut]


class SlotQuery(Input):
    """A slot search: one service, a window, optionally one consultant and the patient's state."""

    service_id: Id
    start: Instant = Field(description="RFC 3339 with offset; any zone")
    end: Instant = Field(description="RFC 3339 with offset; at most 92 days after start")
    consultant_id: Id | None = None
    patient_state: UsState | None = Field(None, description="Required for video sessions")
    limit: int | None = Field(
        None,
        ge=1,
        le=MAX_LIMIT,
        description="Only the first N open slots, soonest first (by start, then consultant)",
    )

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.end <= self.start:
            raise FieldNamedError("end", "must be after start")
        if self.end - self.start > MAX_SEARCH:
            raise FieldNamedError("end", f"must be at most {MAX_SEARCH.days} days after start")
        return self


class SlotOut(Output):
    """An open slot: book it with POST /api/v1/bookings."""

    consultant_id: int
    service_id: int
    start: UtcDatetime
    end: UtcDatetime


class SlotsOut(Output):
    """Open slots, by start time."""

    slots: list[SlotOut]


class RuleIn(Input):
    """Weekly hours in the consultant's own time zone."""

    weekday: Weekday
    start: LocalTime = Field(description="Local wall-clock time, HH:MM")
    end: LocalTime = Field(description="Local wall-clock time, HH:MM; 00:00 means midnight")
    service_ids: list[Id] | None = Field(None, description="Default: every service offered")
    valid_from: date | None = None
    valid_until: date | None = None

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.start.tzinfo or self.end.tzinfo:
            raise FieldNamedError("start", "is a local wall-clock time: give it without an offset")
        if not (self.end > self.start or self.end == time(0)):
            raise FieldNamedError("end", "must be after start")
        if self.valid_from and self.valid_until and self.valid_until < self.valid_from:
            raise FieldNamedError("valid_until", "must not be before valid_from")
        return self


class ExceptionIn(Input):
    """Time off, or extra hours, as an absolute period."""

    kind: Literal["time_off", "extra_hours"]
    start: Instant
    end: Instant
    service_ids: list[Id] | None = None
    note: OneLine = Field("", max_length=200, description="Shown to the hub only; no patient data")

    @model_validator(mode="after")
    def _order(self) -> Self:
        if self.end <= self.start:
            raise FieldNamedError("end", "must be after start")
        return self


class AvailabilityIn(Input):
    """A consultant's complete weekly hours and exceptions (replaces what was there)."""

    rules: list[RuleIn] = Field(max_length=200)
    exceptions: list[ExceptionIn] = Field(default_factory=list, max_length=1000)

    @model_validator(mode="after")
    def _no_overlap(self) -> Self:
        """Two ranges of one day that overlap (in dates and services too) are one mistake."""
        for j, later in enumerate(self.rules):
            for earlier in self.rules[:j]:
                if _overlap(earlier, later):
                    day = later.weekday.capitalize()
                    raise FieldNamedError(
                        f"rules.{j}.start",
                        f"{day} {_range(later)} overlaps {day} {_range(earlier)}: "
                        "ranges on one day must not overlap",
                    )
        return self

    def rows(self) -> tuple[list[store.RuleRow], list[store.ExceptionRow]]:
        """The rows `availability.publish` takes (for the API and the hours page alike)."""
        rules = [
            store.RuleRow(
                weekday=WEEKDAYS.index(r.weekday),
                start_time=r.start,
                end_time=r.end,
                service_ids=tuple(r.service_ids) if r.service_ids is not None else None,
                valid_from=r.valid_from,
                valid_until=r.valid_until,
            )
            for r in self.rules
        ]
        exceptions = [
            store.ExceptionRow(
                kind=e.kind,
                start=e.start,
                end=e.end,
                service_ids=tuple(e.service_ids) if e.service_ids is not None else None,
                note=e.note,
            )
            for e in self.exceptions
        ]
        return rules, exceptions


def _span(rule: RuleIn) -> tuple[int, int]:
    """A range's start and end in minutes from midnight (an end of 00:00 is midnight)."""
    return rule.start.hour * 60 + rule.start.minute, rule.end.hour * 60 + rule.end.minute or 1440


def _range(rule: RuleIn) -> str:
    return f"{rule.start:%H:%M} to {rule.end:%H:%M}"


def _overlap(a: RuleIn, b: RuleIn) -> bool:
    """Whether two weekly ranges claim the same time: day, clock, dates and a service."""
    if a.weekday != b.weekday:
        return False
    (a_start, a_end), (b_start, b_end) = _span(a), _span(b)
    if a_start >= b_end or b_start >= a_end:
        return False
    if (a.valid_until and b.valid_from and a.valid_until < b.valid_from) or (
        b.valid_until and a.valid_from and b.valid_until < a.valid_from
    ):
        return False
    return (
        a.service_ids is None
        or b.service_ids is None
        or bool(set(a.service_ids) & set(b.service_ids))
    )


class RuleOut(Output):
    """Weekly hours as stored."""

    weekday: Weekday
    start: LocalTime
    end: LocalTime
    service_ids: list[int] | None
    valid_from: date | None
    valid_until: date | None


class ExceptionOut(Output):
    """An exception as stored."""

    kind: Literal["time_off", "extra_hours"]
    start: UtcDatetime
    end: UtcDatetime
    service_ids: list[int] | None
    note: str | None = Field(description="Shown to the hub only: null when a clinic asks")


class AvailabilityOut(Output):
    """A consultant's published hours."""

    consultant_id: int
    timezone: str
    rules: list[RuleOut]
    exceptions: list[ExceptionOut]


_UNLESS_HELD = "Required unless hold_id is given"


def _no_default(schema: dict[str, Any]) -> None:
    """An optional field documented as its type alone (absent means 'the hold's'), not as
    nullable: null is not a value to send."""
    schema.pop("default", None)
    for branch in schema.pop("anyOf", []):
        if branch.get("type") != "null":
            schema.update(branch)


class BookingIn(Input):
    """Book an open slot (as offered by GET /api/v1/slots) for one of the clinic's patients,
    or the slot the clinic holds (`hold_id`, from POST /api/v1/holds)."""

    service_id: Id | None = Field(None, description=_UNLESS_HELD, json_schema_extra=_no_default)
    consultant_id: Id | None = Field(None, description=_UNLESS_HELD, json_schema_extra=_no_default)
    patient_id: uuid.UUID
    start: Instant | None = Field(None, description=_UNLESS_HELD, json_schema_extra=_no_default)
    reason: Text = Field("", max_length=2000)
    hold_id: uuid.UUID | None = Field(
        None,
        description="Book the slot this clinic holds; service_id, consultant_id and start, "
        "if given, must be the hold's",
    )

    @model_validator(mode="after")
    def _slot_or_hold(self) -> Self:
        if self.hold_id is None:
            for name in ("service_id", "consultant_id", "start"):
                if getattr(self, name) is None:
                    raise FieldNamedError(name, "is required unless hold_id is given")
        return self


class RescheduleIn(Input):
    """Move a booking to another open slot, optionally with another consultant."""

    start: Instant
    consultant_id: Id | None = None


class OutcomeIn(Input):
    """How a session went."""

    outcome: Literal["completed", "no_show"]


class CancelIn(Input):
    """Cancel a booking; the row is kept with the reason."""

    reason: Text = Field(min_length=1, max_length=500)


BookingStatus = Literal["booked", "cancelled", "completed", "no_show"]


class BookingOut(Output):
    """A booking."""

    id: uuid.UUID
    service_id: int
    consultant_id: int
    spoke_id: int
    patient_id: uuid.UUID
    start: UtcDatetime
    end: UtcDatetime
    status: BookingStatus
    reason: str
    video_link: str | None
    sequence: int = Field(description="Grows with every change")
    created_at: UtcDatetime
    updated_at: UtcDatetime
    cancelled_at: UtcDatetime | None
    cancel_reason: str | None
    series_id: uuid.UUID | None = Field(
        None, description="The course of sessions this booking is one of (GET /api/v1/series/{id})"
    )
    series_position: int | None = Field(None, description="Which session of the course, from 1")


class BookingQuery(Input):
    """Filters for listing bookings."""

    start: Instant | None = None
    end: Instant | None = None
    status: BookingStatus | None = None
    patient_id: uuid.UUID | None = None
    consultant_id: Id | None = None
    limit: int = Field(100, ge=1, le=500)
    cursor: OneLine | None = Field(None, max_length=200, description="next_cursor of the last page")


class BookingsOut(Output):
    """A page of bookings, by start time."""

    bookings: list[BookingOut]
    next_cursor: str | None
