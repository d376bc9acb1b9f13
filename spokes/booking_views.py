"""What the clinic's booking pages show: one read model per page, through the domain packages.

The booking step (`chosen`, `closed`), the find-a-time grid's choices (`bookable_services`,
`consultants_for`) and one booking's page (`visit`, with the course it is a session of) are
gathered here, so that a page handler asks once and renders, and no page module reaches into
another package's SQL store.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

import asyncpg

from hub import store as hub_store
from hub.store import Consultant
from scheduling import bookings, series
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from scheduling.bookings import VIRTUAL_KINDS
from scheduling.series_schemas import Repeat
from scheduling.store import Service
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.web import utc_text


@dataclass(frozen=True, slots=True)
class Closed:
    """Why the chosen time is not open, and the open times nearest it."""

    words: str
    nearest: bookings.Nearest
    names: dict[int, str]  # consultant id -> name, for the nearest times with someone else


@dataclass(frozen=True, slots=True)
class Chosen:
    """The slot a booking page is about."""

    service: Service
    consultant: Consultant
    start: datetime
    end: datetime

    @property
    def hidden(self) -> dict[str, str]:
        """The slot as the hidden inputs of each form on the page."""
        return {
            "service_id": str(self.service.id),
            "consultant_id": str(self.consultant.id),
            "start": utc_text(self.start),
        }


async def chosen(
    conn: asyncpg.Connection, service_id: int, consultant_id: int, start: datetime
) -> Chosen | None:
    """The slot a booking page is about (None: no such service or consultant)."""
    service = await scheduling_store.get_service(conn, service_id)
    consultant = await hub_store.get_consultant(conn, consultant_id)
    if service is None or consultant is None:
        return None
    return Chosen(
        service,
        consultant,
        start,
        start + timedelta(minutes=service.duration_minutes),
    )


async def closed(
    conn: asyncpg.Connection, chosen: Chosen, patient_state: str, now: datetime
) -> Closed | None:
    """Why the chosen time cannot be booked now (None: it can), and what can instead."""
    service, consultant = chosen.service, chosen.consultant
    reason = await bookings.why_closed(
        conn, service, consultant.id, chosen.start, now=now, patient_state=patient_state
    )
    if reason is None:
        return None
    nearest = await bookings.nearest_open(
        conn, service, consultant.id, chosen.start, now=now, patient_state=patient_state
    )
    people = await hub_store.list_consultants(conn, service_id=service.id)
    return Closed(
        bookings.closed_words(reason, service, consultant.name, patient_state),
        nearest,
        {c.id: c.name for c in people},
    )


async def bookable_services(conn: asyncpg.Connection) -> list[Service]:
    """The services a clinic books from the grid (e-consult reviews come with the e-consult)."""
    return [
        s
        for s in await scheduling_store.list_services(conn)
        if s.active and s.kind in VIRTUAL_KINDS
    ]


async def consultants_for(conn: asyncpg.Connection, service_id: int | None) -> list[Consultant]:
    """The consultants who deliver a service (everyone, with no service)."""
    return await hub_store.list_consultants(conn, service_id=service_id)


COURSE_WORDS: dict[Repeat, str] = {
    "weekly": "a weekly course",
    "every_2_weeks": "a course every two weeks",
}


@dataclass(frozen=True, slots=True)
class Course:
    """The course (series) a booking is a session of: where it falls, and how often."""

    series_id: uuid.UUID
    position: int  # 1-based
    count: int
    repeat: Repeat

    @property
    def words(self) -> str:
        """What the page says: "Session 3 of 12 of a weekly course"."""
        return f"Session {self.position} of {self.count} of {COURSE_WORDS[self.repeat]}"


@dataclass(frozen=True, slots=True)
class Visit:
    """One booking as its page shows it: with the service and consultant it names, and the
    course it is a session of (None: a single booking)."""

    booking: Booking
    service: Service | None
    consultant: Consultant | None
    course: Course | None = None


async def visit(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking_id: uuid.UUID
) -> Visit:
    """A booking the caller may see (its read audited), with its service, consultant and
    course (the series' read audited too)."""
    booking = await bookings.get(conn, caller, trail, booking_id)
    service = await scheduling_store.get_service(conn, booking.service_id)
    consultant = await hub_store.get_consultant(conn, booking.consultant_id)
    return Visit(booking, service, consultant, await _course(conn, caller, trail, booking))


async def _course(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, booking: Booking
) -> Course | None:
    if booking.series_id is None or booking.series_position is None:
        return None
    found = await series.get(conn, caller, trail, booking.series_id)
    return Course(found.id, booking.series_position, found.count, found.repeat)
