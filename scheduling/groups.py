"""Groups: a counselor's recurring session that patients of several clinics join by video.

A group is a service of kind `group_session`, one counselor, a title clinics read, a capacity
(2-30 seats) and its occurrences: `once`, or `weekly` / `every_2_weeks`, `count` times (at most
52) or up to an `until` date.

Time. Every occurrence keeps the first start's wall-clock time in the COUNSELOR's time zone
(a group at 18:00 in New York stays at 18:00 across 14 March 2027). Each occurrence holds the
counselor's time, widened by the service's buffers, in `consultant_holds` under the one
exclusion constraint bookings use: no 1:1 booking can land on it, it cannot be created over one
or over another group, under any concurrency. A group is not bound to the counselor's bookable
hours: the hub sets it, and it takes that time out of what clinics can book 1:1.

Privacy. A clinic sees every group (title, times, seats taken) and the seats of its own
patients only; a counselor sees their own groups with the roster; the hub sees every roster.
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from hub import store as hub_store
from scheduling import booking_store as bs
from scheduling import groups_store as gs
from scheduling import store
from scheduling.bookings import GROUP_KIND
from scheduling.groups_schemas import (
    MAX_OCCURRENCES,
    Attendance,
    GroupIn,
    OccurrenceStatus,
    Repeat,
    TakenOccurrenceOut,
)
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed

STEP: dict[Repeat, timedelta] = {
    "once": timedelta(0),
    "weekly": timedelta(weeks=1),
    "every_2_weeks": timedelta(weeks=2),
}


class GroupTimeTaken(Conflict):
    """Some occurrences of a new group land on time the counselor already holds (a booking
    or another group): `taken` lists each (position, start, end, held_by); nothing was made."""

    slug = "group-time-taken"
    title = "The counselor's time is already held"


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


# --- the pure part: when the occurrences fall ------------------------------------------------


def occurrence_starts(
    first_start: datetime, zone: ZoneInfo, repeat: Repeat, *, count: int | None, until: date | None
) -> list[datetime]:
    """The starts (UTC) of a group: the first's wall-clock time in `zone`, every step.

    With `until`, every occurrence whose date in `zone` is on or before it; the list may then be
    empty (until before the first) or longer than MAX_OCCURRENCES: the caller refuses both.
    A wall-clock time the zone skips that day falls an hour later, as zoneinfo reads it.
    """
    wall = first_start.astimezone(zone).replace(tzinfo=None)
    step = STEP[repeat]
    times = 1 if repeat == "once" else count if count is not None else MAX_OCCURRENCES + 1
    starts: list[datetime] = []
    for k in range(times):
        at = (wall + k * step).replace(tzinfo=zone)
        if until is not None and at.date() > until:
            break
        # Through UTC and back: a skipped wall-clock time becomes the real instant after it.
        starts.append(at.astimezone(UTC))
    return starts


def planned_starts(body: GroupIn, zone: ZoneInfo) -> list[datetime]:
    """The group's starts; 422 naming `until` when it gives none or too many."""
    starts = occurrence_starts(
        body.first_start, zone, body.repeat, count=body.count, until=body.until
    )
    if not starts:
        raise _invalid("until", "is before the first occurrence")
    if len(starts) > MAX_OCCURRENCES:
        raise _invalid(
            "until", f"gives more than {MAX_OCCURRENCES} occurrences; choose an earlier date"
        )
    return starts


# --- what callers get ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Seat:
    """A patient's seat in one occurrence."""

    id: uuid.UUID
    enrolment_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    seat_no: int
    attendance: Attendance


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One meeting of a group; `seats` are those the caller may see."""

    id: uuid.UUID
    group_id: uuid.UUID
    position: int
    consultant_id: int
    start: datetime
    end: datetime
    status: OccurrenceStatus
    capacity: int
    seats_taken: int
    video_link: str | None
    cancel_reason: str | None
    seats: tuple[Seat, ...]

    @property
    def seats_open(self) -> int:
        """Seats still free (none once cancelled)."""
        return 0 if self.status != "scheduled" else max(self.capacity - self.seats_taken, 0)


@dataclass(frozen=True, slots=True)
class Group:
    """A group and its occurrences by position, as the caller may see it."""

    id: uuid.UUID
    service_id: int
    consultant_id: int
    title: str
    capacity: int
    repeat: Repeat
    count: int
    first_start: datetime
    zone: str
    created_by: str
    created_at: datetime
    occurrences: tuple[Occurrence, ...]

    def occurrence(self, position: int) -> Occurrence | None:
        """The occurrence at a 1-based position."""
        return next((o for o in self.occurrences if o.position == position), None)


def _seat(s: gs.SeatRow) -> Seat:
    return Seat(s.id, s.enrolment_id, s.spoke_id, s.patient_id, s.seat_no, s.attendance)


def _occurrence(o: gs.OccurrenceRow, seats: list[gs.SeatRow]) -> Occurrence:
    return Occurrence(
        id=o.id,
        group_id=o.group_id,
        position=o.position,
        consultant_id=o.consultant_id,
        start=o.start,
        end=o.end,
        status=o.status,
        capacity=o.capacity,
        seats_taken=o.seats_taken,
        video_link=o.video_link,
        cancel_reason=o.cancel_reason,
        seats=tuple(_seat(s) for s in seats if s.occurrence_id == o.id),
    )


def _group(row: gs.GroupRow, occurrences: list[Occurrence]) -> Group:
    return Group(
        id=row.id,
        service_id=row.service_id,
        consultant_id=row.consultant_id,
        title=row.title,
        capacity=row.capacity,
        repeat=row.repeat,
        count=row.count,
        first_start=row.first_start,
        zone=row.zone,
        created_by=row.created_by,
        created_at=row.created_at,
        occurrences=tuple(o for o in occurrences if o.group_id == row.id),
    )


async def _load(conn: asyncpg.Connection, caller: Caller, rows: list[gs.GroupRow]) -> list[Group]:
    """Groups with their occurrences and the seats the caller may see."""
    occurrences = await gs.occurrences_of(conn, [r.id for r in rows])
    # A clinic sees its own patients' seats; the hub and the counselor see the roster (a
    # counselor only of their own groups).
    runs = {r.id for r in rows if caller.consultant_id in (None, r.consultant_id)}
    seats = await gs.seats_of(
        conn,
        [o.id for o in occurrences if caller.spoke_id is not None or o.group_id in runs],
        spoke_id=caller.spoke_id,
    )
    found = [_occurrence(o, seats) for o in occurrences]
    return [_group(r, found) for r in rows]


async def _audit_seats(conn: asyncpg.Connection, trail: Trail, found: list[Group]) -> None:
    seats = [s for g in found for o in g.occurrences for s in o.seats]
    for spoke_id in sorted({s.spoke_id for s in seats}):
        ids = [s.id for s in seats if s.spoke_id == spoke_id]
        await audit.record(conn, trail, "read", "group_seat", ids, spoke_id)


def _may_run(caller: Caller, consultant_id: int) -> None:
    """Only the hub's coordinators and admins, or the counselor themself, run a group."""
    if caller.spoke_id is not None:
        raise Forbidden("the hub runs groups; a clinic enrols its patients in them")
    if not caller.is_hub_admin and caller.consultant_id != consultant_id:
        raise Forbidden("only the hub's coordinators or the group's counselor may change it")


# --- create, read, find, cancel --------------------------------------------------------------


async def _group_service(conn: asyncpg.Connection, service_id: int) -> store.Service:
    service = await store.get_service(conn, service_id)
    if service is None or not service.active:
        raise _invalid("service_id", "no active service with this id")
    if service.kind != GROUP_KIND:
        raise _invalid("service_id", "is not a group session service")
    return service


async def create(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    body: GroupIn,
    now: datetime,
    *,
    video_url_template: str = "https://video.invalid/{room}",
) -> Group:
    """Make a group and hold the counselor's time for every occurrence, or nothing.

    422 naming the field (service not a group session, counselor not offering it, a first start
    that has passed, an `until` giving none or too many); 409 GroupTimeTaken listing every
    occurrence that lands on a booking or another group.
    """
    _may_run(caller, body.consultant_id)
    service = await _group_service(conn, body.service_id)
    counselor = await hub_store.get_consultant(conn, body.consultant_id)
    if counselor is None or not counselor.active:
        raise _invalid("consultant_id", "no active consultant with this id")
    if service.id not in counselor.service_ids:
        raise _invalid("consultant_id", "this consultant does not offer this service")
    if body.first_start <= now:
        raise _invalid("first_start", "has already passed")
    zone = ZoneInfo(counselor.timezone)
    starts = planned_starts(body, zone)
    length = timedelta(minutes=service.duration_minutes)
    before = timedelta(minutes=service.buffer_before_minutes)
    after = timedelta(minutes=service.buffer_after_minutes)
    # From here to commit, other writes of this counselor's time wait their turn.
    await bs.lock_consultants_time(conn, counselor.id, now=now)
    taken: list[TakenOccurrenceOut] = []
    for position, start in enumerate(starts, 1):
        for hold in await gs.holds_overlapping(
            conn, counselor.id, start - before, start + length + after
        ):
            taken.append(
                TakenOccurrenceOut(
                    position=position,
                    start=start,
                    end=start + length,
                    held_by="booking" if hold.booking else "group",
                )
            )
            break
    if taken:
        raise _taken(taken)
    row = await gs.insert_group(
        conn,
        service_id=service.id,
        consultant_id=counselor.id,
        title=body.title,
        capacity=body.capacity,
        repeat=body.repeat,
        count=len(starts),
        first_start=starts[0],
        zone=zone.key,
        created_by=trail.actor,
    )
    for position, start in enumerate(starts, 1):
        try:
            await gs.insert_occurrence(
                conn,
                group_id=row.id,
                position=position,
                consultant_id=counselor.id,
                start=start,
                end=start + length,
                blocked_start=start - before,
                blocked_end=start + length + after,
                capacity=body.capacity,
                video_link=video_url_template.format(room=secrets.token_urlsafe(16)),
            )
        except gs.Overlap:
            # Held since the check (a write that skipped the lock): the transaction is void.
            taken_now = TakenOccurrenceOut(
                position=position, start=start, end=start + length, held_by="booking"
            )
            raise _taken([taken_now]) from None
    await audit.record(conn, trail, "create", "group", [row.id], None)
    return (await _load(conn, caller, [row]))[0]


def _taken(taken: list[TakenOccurrenceOut]) -> GroupTimeTaken:
    listed = ", ".join(str(t.position) for t in taken)
    return GroupTimeTaken(
        f"occurrences {listed} land on time the counselor already holds; nothing was made",
        taken=[t.model_dump(mode="json") for t in taken],
    )


async def _read(
    conn: asyncpg.Connection, caller: Caller, group_id: uuid.UUID, *, lock: bool = False
) -> Group:
    # A counselor sees only their own groups; a clinic and the hub see every group.
    row = await gs.get_group(
        conn,
        group_id,
        consultant_id=caller.consultant_id if caller.spoke_id is None else None,
        lock=lock,
    )
    if row is None:
        raise NotFound("no such group")
    return (await _load(conn, caller, [row]))[0]


async def get(conn: asyncpg.Connection, caller: Caller, trail: Trail, group_id: uuid.UUID) -> Group:
    """One group: a clinic sees seats taken and its own patients' seats, the hub the roster."""
    found = await _read(conn, caller, group_id)
    await _audit_seats(conn, trail, [found])
    return found


async def find_open(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    service_id: int,
    start: datetime,
    end: datetime,
    patient_state: str,
    *,
    now: datetime | None = None,
) -> list[Group]:
    """Groups of the service with an open seat in an occurrence starting in [start, end) (and
    after `now`), whose counselor is licensed in the patient's state; soonest first."""
    lo = max(start, now) if now is not None else start
    ids = await gs.open_group_ids(
        conn, service_id=service_id, start=lo, end=end, patient_state=patient_state
    )
    rows = {r.id: r for r in await gs.get_groups(conn, ids)}
    found = await _load(conn, caller, [rows[i] for i in ids if i in rows])
    await _audit_seats(conn, trail, found)
    return found


async def cancel_from(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    position: int,
    reason: str,
    now: datetime,
) -> Group:
    """Cancel the occurrence at `position` and every later one still scheduled; their seats
    are released and the counselor's time opens again. 409 when none from there on is."""
    found = await _read(conn, caller, group_id, lock=True)
    _may_run(caller, found.consultant_id)
    if position > found.count:
        raise _invalid("from", f"the group has only {found.count} occurrences")
    await bs.lock_consultants_time(conn, found.consultant_id, now=now)
    cancelled = await gs.cancel_occurrences(conn, group_id, position, reason=reason, now=now)
    if not cancelled:
        raise Conflict(f"no occurrence from {position} on is still scheduled")
    await audit.record(conn, trail, "cancel", "group_occurrence", cancelled, None)
    return await _read(conn, caller, group_id)


async def occurrence(
    conn: asyncpg.Connection, group_id: uuid.UUID, position: int
) -> Occurrence | None:
    """One occurrence with its seat count (no seats: the caller reads those it may see)."""
    row = await gs.get_occurrence(conn, group_id, position)
    return _occurrence(row, []) if row else None


def without_seats(group: Group) -> Group:
    """The group without any seat (what every caller may know: times and counts)."""
    return replace(group, occurrences=tuple(replace(o, seats=()) for o in group.occurrences))
