"""Booking the next session of a course from the session before it: same patient, service,
consultant and clinic, at the same wall-clock time in the clinic's zone one or two weeks on.

Who may: the session's own consultant (from their session page) or its clinic. The booking
is the clinic's, like every other: it is written by `bookings.book` for the session's clinic,
and its audit row names the consultant who made it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from hub import store as hub_store
from scheduling import bookings
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from scheduling.slots import Slot
from scheduling.store import Service
from spokes import store as spokes_store
from spokes.store import Spoke
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import FieldError, Forbidden, NotFound, ValidationFailed

WEEKS_LATER = (1, 2)


def same_time_later(start: datetime, zone: ZoneInfo, weeks: int) -> datetime:
    """`start` moved `weeks` on, keeping its wall-clock time in `zone` (daylight saving too)."""
    local = start.astimezone(zone).replace(tzinfo=None) + timedelta(weeks=weeks)
    return local.replace(tzinfo=zone).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class NextSession:
    """The session proposed after `after`: open (`words` None) or why not, and nearby times."""

    after: Booking
    service: Service
    spoke: Spoke
    consultant_name: str
    weeks: int
    start: datetime
    words: str | None
    nearest: list[Slot]

    @property
    def open(self) -> bool:
        """True when the same time `weeks` on is an open slot now."""
        return self.words is None


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


async def _session(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking_id: uuid.UUID
) -> Booking:
    """The session to follow, if the caller is its consultant or its clinic."""
    booking = await bookings.get(conn, caller, trail, booking_id)
    mine = caller.consultant_id is not None and caller.consultant_id == booking.consultant_id
    ours = caller.spoke_id is not None and caller.spoke_id == booking.spoke_id
    if not (mine or ours):
        raise Forbidden("only the session's consultant or its clinic books the next one")
    return booking


async def propose(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    weeks: int,
    now: datetime,
) -> NextSession:
    """The same time `weeks` after the session: open, or why not and the nearest open times."""
    if weeks not in WEEKS_LATER:
        raise _invalid("weeks", "the next session is one or two weeks later")
    after = await _session(conn, caller, trail, booking_id)
    service = await scheduling_store.get_service(conn, after.service_id)
    spoke = await spokes_store.get_spoke(conn, after.spoke_id)
    patient = await spokes_store.get_patient(conn, after.spoke_id, after.patient_id)
    consultant = await hub_store.get_consultant(conn, after.consultant_id)
    if service is None or spoke is None or patient is None or consultant is None:
        raise NotFound("no such session")  # the schema ties them together; be sure
    start = same_time_later(after.start, spoke.zone, weeks)
    words: str | None = None
    nearest: list[Slot] = []
    if not service.active:
        words = f"{service.name} is no longer offered."
    else:
        closed = await bookings.why_closed(
            conn, service, after.consultant_id, start, now=now, patient_state=patient.state
        )
        if closed is not None:
            words = bookings.closed_words(closed, service, consultant.name, patient.state)
            found = await bookings.nearest_open(
                conn,
                service,
                after.consultant_id,
                start,
                now=now,
                patient_state=patient.state,
                others=0,
            )
            nearest = found.same
    return NextSession(after, service, spoke, consultant.name, weeks, start, words, nearest)


async def book_next(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    start: datetime,
    now: datetime,
    video_url_template: str,
) -> Booking:
    """Book the session's patient, service and consultant at `start`, for the session's clinic."""
    after = await _session(conn, caller, trail, booking_id)
    if start <= after.start:
        raise _invalid("start", "the next session starts after this one")
    new = bookings.NewBooking(
        after.service_id, after.consultant_id, after.patient_id, start, after.reason
    )
    return await bookings.book(
        conn, after.spoke_id, trail, new, now=now, video_url_template=video_url_template
    )
