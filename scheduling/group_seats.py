"""Seats in a group, and its waitlist: enrol all or none, withdraw, excuse, wait, be assigned.

A clinic enrols one of its patients: a seat in every remaining occurrence (scheduled, not yet
started) from a chosen one on, or none at all (409 /problems/group-full naming the occurrences
with no seat left). Seat numbers run 1..capacity and are unique per occurrence while held: the
schema (group_seats_held) makes more seats than capacity impossible, and every seat move of a
group first locks the group's row, so concurrent enrolments from any number of processes queue
there and each takes the lowest free number.

Withdrawing from an occurrence on releases the seats from there; in the same transaction the
longest waiting patient (first come, first served) gets a seat in every remaining occurrence
from the first one freed, all or none, exactly once (the lock again), and their clinic is told
by webhook (`group.seat_assigned`, through the outbox) and on its dashboard (`assigned_since`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import asyncpg

from consults import delivery
from hub import store as hub_store
from scheduling import group_seats_store as gs
from scheduling.group_seats_schemas import FullOccurrenceOut, GroupFullOut, WaitStatus
from scheduling.group_seats_store import Assigned, EnrolmentRow, GroupRow, OccurrenceRow, SeatRow
from scheduling.one_statement import Keep
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed
from telehub.idempotency import Answer, Claim

__all__ = ["Assigned", "Enrolment", "GroupFull", "Waiting"]


class GroupFull(Conflict):
    """No seat is left in some occurrence of the group (`full` lists them, position and start);
    nothing was enrolled. Join the group's waitlist, or enrol from a later occurrence."""

    slug = "group-full"
    title = "The group has no seat left"


@dataclass(frozen=True, slots=True)
class Enrolment:
    """A patient's place in a group and their seats, by position."""

    id: uuid.UUID
    group_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    from_position: int
    withdrawn_from: int | None
    created_at: datetime
    seats: list[SeatRow]


@dataclass(frozen=True, slots=True)
class Waiting:
    """A patient's place on a group's waitlist."""

    id: uuid.UUID
    group_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    status: WaitStatus
    place: int | None
    enrolment_id: uuid.UUID | None
    created_at: datetime


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


def _remaining(found: list[OccurrenceRow], now: datetime) -> list[OccurrenceRow]:
    return [o for o in found if o.status == "scheduled" and o.start > now]


def _from(remaining: list[OccurrenceRow], position: int | None) -> list[OccurrenceRow]:
    """The remaining occurrences from `position` on (the first remaining when None)."""
    if not remaining:
        raise Conflict("the group has no occurrence left to enrol in")
    if position is None:
        return remaining
    if position not in {o.position for o in remaining}:
        raise _invalid("from", f"occurrence {position} is not one still to come")
    return [o for o in remaining if o.position >= position]


async def _group(conn: asyncpg.Connection, group_id: uuid.UUID) -> GroupRow:
    group = await gs.lock_group(conn, group_id)
    if group is None:
        raise NotFound("no such group")
    return group


async def _patient(
    conn: asyncpg.Connection, caller: Caller, group: GroupRow, patient_id: uuid.UUID
) -> spokes_store.Patient:
    """The clinic's own patient (another clinic's answers like a missing one), licensed for."""
    if caller.spoke_id is None:
        raise Forbidden("only a spoke clinic enrols its patients")
    patient = await spokes_store.get_patient(conn, caller.spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient at this clinic")
    counselor = await hub_store.get_consultant(conn, group.consultant_id)
    if counselor is None or patient.state not in counselor.licensed_states:
        raise _invalid(
            "patient_id",
            f"the group's counselor is not licensed in {patient.state}, where the patient is",
        )
    return patient


def _refuse_full(chosen: list[OccurrenceRow]) -> None:
    """GroupFull naming the chosen occurrences with no seat left, if any."""
    full = [o for o in chosen if o.free_seat is None]
    if full:
        listed = ", ".join(str(o.position) for o in full)
        body = GroupFullOut(
            full=[FullOccurrenceOut(position=o.position, start=o.start) for o in full]
        )
        raise GroupFull(
            f"no seat is left in occurrence {listed}; nothing was enrolled. Join the waitlist",
            **body.model_dump(mode="json"),
        )


async def _seat(
    conn: asyncpg.Connection,
    trail: Trail,
    group_id: uuid.UUID,
    spoke_id: int,
    patient_id: uuid.UUID,
    chosen: list[OccurrenceRow],
) -> EnrolmentRow:
    """Seat the patient in every chosen occurrence (their lowest free numbers), or GroupFull."""
    _refuse_full(chosen)
    if await gs.open_enrolment_of(conn, group_id, patient_id) is not None:
        raise Conflict("the patient is enrolled in this group already")
    enrolment = await gs.insert_enrolment(
        conn,
        group_id=group_id,
        spoke_id=spoke_id,
        patient_id=patient_id,
        from_position=chosen[0].position,
        created_by=trail.actor,
    )
    seats = [(o.id, o.free_seat, o.capacity) for o in chosen if o.free_seat is not None]
    await gs.insert_seats(conn, enrolment, seats)
    await audit.record(conn, trail, "create", "group_enrolment", [enrolment.id], spoke_id)
    return enrolment


async def _enrolment(conn: asyncpg.Connection, row: EnrolmentRow) -> Enrolment:
    seats = await gs.seats_of(conn, [row.id])
    return Enrolment(
        row.id,
        row.group_id,
        row.spoke_id,
        row.patient_id,
        row.from_position,
        row.withdrawn_from,
        row.created_at,
        seats,
    )


async def enrol(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    patient_id: uuid.UUID,
    position: int | None,
    now: datetime,
) -> Enrolment:
    """A seat for the clinic's patient in every remaining occurrence from `position` on, or none.

    404 another clinic's patient or no such group; 422 `patient_id` when the counselor is not
    licensed in the patient's state, `from` when that occurrence is not still to come; 409
    group-full naming the occurrences with no seat left, 409 when already enrolled. A waiting
    place of the patient's on the group's waitlist is settled as assigned. In the caller's
    transaction: the group's lock, one read, one write (the API's enrol_at_once is the same
    with the Idempotency-Key's claim and kept answer folded in).
    """
    if not conn.is_in_transaction():  # the group's lock must last until the write commits
        async with conn.transaction():
            return await enrol(conn, caller, trail, group_id, patient_id, position, now)
    await gs.lock_group(conn, group_id)
    facts = await gs.enrol_facts(conn, group_id, caller.spoke_id, patient_id)
    enrolment, seats = _checked(caller, trail, group_id, patient_id, position, facts, now)
    await gs.write_enrolment(
        conn, _row(enrolment), seats, trail, waiting_id=facts.waiting_id, now=now
    )
    return enrolment


def enrol_first_statements(group_id: uuid.UUID) -> list[str]:
    """What enrol_at_once needs done in the round trip that opens its transaction: the
    group's lock, before the read whose snapshot decides the seats."""
    return [gs.lock_group_sql(group_id)]


async def enrol_at_once(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    patient_id: uuid.UUID,
    position: int | None,
    claim: Claim,
    *,
    now: datetime,
    answer: Callable[[Enrolment], str],
) -> tuple[Answer, bool]:
    """The API's enrolment, in four round trips with its Idempotency-Key.

    1. `BEGIN`, the key's claim and enrol_first_statements (the group's row lock), sent as one
       (telehub.idempotency.idempotent_fused);
    2. one read: the key's kept answer and every fact the checks need (enrol_facts);
    3. one write: the enrolment, its seats, the waiting place settled, its audit row and the
       kept answer `answer(enrolment)` (write_enrolment);
    4. `COMMIT`.
    Answers (answer, replayed). Refusals raise as enrol() does, and roll everything back.
    """
    facts = await gs.enrol_facts(
        conn, group_id, caller.spoke_id, patient_id, key=(claim.owner, claim.key)
    )
    if facts.replay:
        return claim.replay(*facts.kept), True
    enrolment, seats = _checked(caller, trail, group_id, patient_id, position, facts, now)
    body = answer(enrolment)
    kept = Keep.of(claim, 201, body)
    await gs.write_enrolment(
        conn, _row(enrolment), seats, trail, waiting_id=facts.waiting_id, now=now, keep=kept
    )
    return Answer(201, body), False


def _checked(
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    patient_id: uuid.UUID,
    position: int | None,
    facts: gs.EnrolFacts,
    now: datetime,
) -> tuple[Enrolment, list[tuple[uuid.UUID, int, int]]]:
    """The enrolment to write and its seats (occurrence id, seat number, capacity), once the
    facts say every chosen occurrence has a seat; otherwise the refusal, in enrol()'s order."""
    if facts.group is None:
        raise NotFound("no such group")
    if caller.spoke_id is None:
        raise Forbidden("only a spoke clinic enrols its patients")
    if facts.patient_state is None:
        raise NotFound("no such patient at this clinic")
    if facts.licensed_states is None or facts.patient_state not in facts.licensed_states:
        raise _invalid(
            "patient_id",
            f"the group's counselor is not licensed in {facts.patient_state}, where the patient is",
        )
    chosen = _from(_remaining(facts.occurrences, now), position)
    _refuse_full(chosen)
    if facts.enrolled:
        raise Conflict("the patient is enrolled in this group already")
    enrolment_id = uuid.uuid4()
    seats = [(o.id, o.free_seat, o.capacity) for o in chosen if o.free_seat is not None]
    enrolment = Enrolment(
        id=enrolment_id,
        group_id=group_id,
        spoke_id=caller.spoke_id,
        patient_id=patient_id,
        from_position=chosen[0].position,
        withdrawn_from=None,
        created_at=facts.now,
        seats=[
            SeatRow(enrolment_id, o.position, o.start, o.end, o.free_seat, "expected")
            for o in chosen
            if o.free_seat is not None
        ],
    )
    return enrolment, seats


def _row(e: Enrolment) -> EnrolmentRow:
    return EnrolmentRow(
        e.id, e.group_id, e.spoke_id, e.patient_id, e.from_position, e.withdrawn_from, e.created_at
    )


async def _mine(
    conn: asyncpg.Connection, caller: Caller, group_id: uuid.UUID, enrolment_id: uuid.UUID
) -> EnrolmentRow:
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("only the patient's clinic or the hub may change an enrolment")
    row = await gs.get_enrolment(conn, group_id, enrolment_id, caller.spoke_id)
    if row is None:
        raise NotFound("no such enrolment")
    return row


async def withdraw(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    position: int,
    now: datetime,
    *,
    base_url: str = "",
) -> Enrolment:
    """Free the patient's seat from occurrence `position` on (earlier ones are kept), and give
    each freed place to the longest waiting patient, in this transaction.

    422 `from` before the enrolment's first occurrence or not still to come; 409 when already
    withdrawn.
    """
    await _group(conn, group_id)
    row = await _mine(conn, caller, group_id, enrolment_id)
    if row.withdrawn_from is not None:
        raise Conflict(f"the patient was withdrawn from occurrence {row.withdrawn_from} on")
    if position < row.from_position:
        raise _invalid("from", f"the enrolment starts at occurrence {row.from_position}")
    remaining = _remaining(await gs.occurrences(conn, group_id), now)
    if position not in {o.position for o in remaining}:
        raise _invalid("from", f"occurrence {position} is not one still to come")
    await gs.withdraw(conn, row.id, position)
    await audit.record(conn, trail, "update", "group_enrolment", [row.id], row.spoke_id)
    await fill_from_waitlist(conn, trail, group_id, position, now, base_url=base_url)
    found = await gs.get_enrolment(conn, group_id, row.id, None)
    assert found is not None
    return await _enrolment(conn, found)


async def excuse(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    enrolment_id: uuid.UUID,
    position: int,
    now: datetime,
) -> Enrolment:
    """The patient will miss occurrence `position`: its seat is kept, marked excused.

    422 `position` when the patient holds no seat there that is still to come.
    """
    await _group(conn, group_id)
    row = await _mine(conn, caller, group_id, enrolment_id)
    remaining = _remaining(await gs.occurrences(conn, group_id), now)
    if position not in {o.position for o in remaining} or not await gs.excuse(
        conn, row.id, position, actor=trail.actor, now=now
    ):
        raise _invalid("position", f"the patient holds no seat in occurrence {position} to come")
    await audit.record(conn, trail, "update", "group_enrolment", [row.id], row.spoke_id)
    return await _enrolment(conn, row)


async def get_enrolment(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    enrolment_id: uuid.UUID,
) -> Enrolment:
    """An enrolment of the caller's clinic (the hub: any), audited."""
    row = await gs.get_enrolment(conn, group_id, enrolment_id, caller.spoke_id)
    if row is None:
        raise NotFound("no such enrolment")
    await audit.record(conn, trail, "read", "group_enrolment", [row.id], row.spoke_id)
    return await _enrolment(conn, row)


# --- the waitlist ---------------------------------------------------------------------------


def _waiting(row: gs.WaitRow) -> Waiting:
    return Waiting(
        row.id,
        row.group_id,
        row.spoke_id,
        row.patient_id,
        row.status,
        row.place,
        row.enrolment_id,
        row.created_at,
    )


async def wait(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    patient_id: uuid.UUID,
    now: datetime,
) -> Waiting:
    """Put the clinic's patient at the end of a full group's waitlist.

    409 when a seat is open in every remaining occurrence (enrol instead), when the patient is
    enrolled or waiting already; 404 and 422 as for enrolling.
    """
    group = await _group(conn, group_id)
    patient = await _patient(conn, caller, group, patient_id)
    remaining = _remaining(await gs.occurrences(conn, group_id), now)
    if not remaining:
        raise Conflict("the group has no occurrence left")
    if all(o.free_seat is not None for o in remaining):
        raise Conflict("a seat is open in every occurrence to come: enrol the patient instead")
    if await gs.open_enrolment_of(conn, group_id, patient.id) is not None:
        raise Conflict("the patient is enrolled in this group already")
    if await gs.waiting_of(conn, group_id, patient.id) is not None:
        raise Conflict("the patient is on this group's waitlist already")
    row = await gs.insert_waiting(
        conn,
        group_id=group_id,
        spoke_id=patient.spoke_id,
        patient_id=patient.id,
        created_by=trail.actor,
    )
    await audit.record(conn, trail, "create", "group_waitlist", [row.id], row.spoke_id)
    return _waiting(row)


async def leave(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    waitlist_id: uuid.UUID,
    now: datetime,
) -> Waiting:
    """The clinic takes its patient off the waitlist; 409 when no longer waiting."""
    await _group(conn, group_id)
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("only the patient's clinic or the hub may change a waitlist place")
    row = await gs.get_waiting(conn, group_id, waitlist_id, caller.spoke_id)
    if row is None:
        raise NotFound("no such waitlist place")
    if row.status != "waiting":
        raise Conflict(f"the patient is no longer waiting ({row.status})")
    await gs.settle_waiting(conn, row.id, status="left", enrolment_id=None, now=now)
    await audit.record(conn, trail, "update", "group_waitlist", [row.id], row.spoke_id)
    found = await gs.get_waiting(conn, group_id, waitlist_id, None)
    assert found is not None
    return _waiting(found)


async def get_waiting(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    group_id: uuid.UUID,
    waitlist_id: uuid.UUID,
) -> Waiting:
    """A waitlist place of the caller's clinic (the hub: any), audited."""
    row = await gs.get_waiting(conn, group_id, waitlist_id, caller.spoke_id)
    if row is None:
        raise NotFound("no such waitlist place")
    await audit.record(conn, trail, "read", "group_waitlist", [row.id], row.spoke_id)
    return _waiting(row)


def _utc(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


async def fill_from_waitlist(
    conn: asyncpg.Connection,
    trail: Trail,
    group_id: uuid.UUID,
    position: int,
    now: datetime,
    *,
    base_url: str = "",
) -> list[uuid.UUID]:
    """Give freed seats from occurrence `position` on to the longest waiting patients, each all
    or none, in order, while the first waiting one fits; return their enrolment ids.

    Call with the group's row locked (every writer here has it): so each freed seat is given
    once. Each assignment queues `group.seat_assigned` for that patient's clinic alone.
    """
    group = await _group(conn, group_id)  # held already: a no-op re-lock that reads the title
    given: list[uuid.UUID] = []
    while (first := await gs.first_waiting(conn, group_id)) is not None:
        remaining = _remaining(await gs.occurrences(conn, group_id), now)
        chosen = [o for o in remaining if o.position >= position]
        if not chosen or any(o.free_seat is None for o in chosen):
            break
        if await gs.open_enrolment_of(conn, group_id, first.patient_id) is not None:
            # Enrolled meanwhile by the clinic: the place is settled, not given twice.
            await gs.settle_waiting(conn, first.id, status="left", enrolment_id=None, now=now)
            continue
        row = await _seat(conn, trail, group_id, first.spoke_id, first.patient_id, chosen)
        await gs.settle_waiting(conn, first.id, status="assigned", enrolment_id=row.id, now=now)
        await delivery.enqueue_seat_assigned(
            conn,
            spoke_id=first.spoke_id,
            data={
                "group_id": str(group.id),
                "title": group.title,
                "occurrence_from": _utc(chosen[0].start),
                "from_position": chosen[0].position,
                "patient_id": str(first.patient_id),
                "enrolment_id": str(row.id),
                "waitlist_id": str(first.id),
                "links": {"group": f"{base_url}/api/v1/groups/{group.id}"},
            },
            at=now,
        )
        given.append(row.id)
    return given


async def assigned_since(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, since: datetime
) -> list[Assigned]:
    """The caller clinic's waiting patients given a freed seat since `since` (for its
    dashboard), newest first; audited as reads of those patients."""
    if caller.spoke_id is None:
        raise Forbidden("only a spoke clinic has waiting patients")
    found = await gs.assigned_since(conn, caller.spoke_id, since)
    await audit.record(
        conn, trail, "read", "patient", [a.patient_id for a in found], caller.spoke_id
    )
    return found
