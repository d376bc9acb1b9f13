"""The 1:1 waitlist on a real database: a cancellation, a reschedule away or new hours tell the
matching waiting requests of the slot they opened, oldest first, through the outbox; the
others are not told, nothing is booked, and a request is not told twice of one slot."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

import asyncpg
import pytest

from scheduling import availability, bookings, moves, waitlist
from scheduling import store as scheduling_store
from scheduling.waitlist import Wanted
from scheduling.waitlist_store import WaitRequest
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import ValidationFailed
from tests.factories import Clock, Network, SpokeUser, booking_in_store

# The clock is Monday 1 March 2027, 15:00 UTC. The consultant (Los Angeles, UTC-8 until
# 14 March) works Mondays 09:00-12:00: on 8 March that is 17:00, 18:00 and 19:00 UTC.
MON_8 = [datetime(2027, 3, 8, h, 0, tzinfo=UTC) for h in (17, 18, 19)]


def caller_of(spoke: SpokeUser) -> Caller:
    """The spoke's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


@dataclass
class Full:
    """A consultant whose Monday 8 March is fully booked, and two clinics that wait."""

    service: scheduling_store.Service
    other_service: scheduling_store.Service
    consultant_id: int
    first: SpokeUser
    second: SpokeUser
    booked: list[uuid.UUID]


@pytest.fixture
async def full(network: Network, conn: asyncpg.Connection) -> Full:
    """Every slot of Monday 8 March booked by the first clinic's patients."""
    service = await network.service(name="Psychiatry follow-up")
    other = await network.service(name="Counseling")
    await network.consultant([other])  # the other service is someone else's
    consultant = await network.consultant([service])
    # A counselor offers it too (Wednesdays), so that a request for that role is valid.
    await network.consultant(
        [service], role="telehealth_counselor", hours=((2, time(9), time(10)),)
    )
    first, second = await network.spoke(), await network.spoke()
    booked = []
    for start in MON_8:
        patient = await network.patient(first)
        booked.append(
            await booking_in_store(
                conn,
                service_id=service.id,
                consultant_id=consultant.id,
                spoke_id=first.id,
                patient_id=patient.id,
                start=start,
            )
        )
    return Full(service, other, consultant.id, first, second, booked)


async def ask(
    conn: asyncpg.Connection, spoke: SpokeUser, clock: Clock, **fields: Any
) -> WaitRequest:
    """A request of the clinic, for any consultant of the service in Vermont by 10 March."""
    values: dict[str, Any] = dict(
        consultant_id=None, role=None, patient_state="VT", latest_date=date(2027, 3, 10)
    )
    values.update(fields)
    return await waitlist.join(
        conn, caller_of(spoke), Trail(spoke.client_id), Wanted(**values), now=clock.now
    )


async def cancel(conn: asyncpg.Connection, full: Full, booking_id: uuid.UUID, clock: Clock) -> None:
    """The first clinic cancels one of its bookings, in one transaction."""
    async with conn.transaction():
        await bookings.cancel(
            conn,
            caller_of(full.first),
            Trail("test"),
            booking_id,
            reason="Patient asked",
            now=clock.now,
        )


async def row(conn: asyncpg.Connection, request: WaitRequest) -> asyncpg.Record:
    found = await conn.fetchrow(
        "SELECT status, told_slot, told_consultant_id FROM slot_waitlist WHERE id = $1", request.id
    )
    assert found is not None
    return found


async def events(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT spoke_id, payload FROM outbox WHERE event_type = 'slot.opened' ORDER BY id"
    )


async def test_a_cancellation_tells_the_matching_requests_oldest_first(
    conn: asyncpg.Connection, full: Full, clock: Clock
) -> None:
    oldest = await ask(conn, full.second, clock, service_id=full.service.id)
    named = await ask(
        conn,
        full.first,
        clock,
        service_id=full.service.id,
        consultant_id=full.consultant_id,
        latest_date=date(2027, 3, 8),
    )
    booked_before = await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'")

    await cancel(conn, full, full.booked[1], clock)

    sent = await events(conn)
    assert [e["spoke_id"] for e in sent] == [full.second.id, full.first.id]  # oldest first
    assert sent[0]["payload"]["type"] == "slot.opened"
    assert sent[0]["payload"]["data"]["waitlist_id"] == str(oldest.id)
    assert sent[0]["payload"]["data"]["slot"] == {
        "service_id": full.service.id,
        "consultant_id": full.consultant_id,
        "start": "2027-03-08T18:00:00Z",
        "end": "2027-03-08T19:00:00Z",
    }
    for request in (oldest, named):
        told = await row(conn, request)
        assert told["status"] == "told"
        assert told["told_consultant_id"] == full.consultant_id
        assert told["told_slot"].lower == MON_8[1]
    # Nothing is booked for them: one booking fewer, none more.
    booked_after = await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'")
    assert booked_after == booked_before - 1


async def test_requests_that_do_not_match_are_not_told(
    conn: asyncpg.Connection, full: Full, clock: Clock
) -> None:
    other_service = await ask(conn, full.second, clock, service_id=full.other_service.id)
    unlicensed = await ask(conn, full.second, clock, service_id=full.service.id, patient_state="OR")
    too_late = await ask(
        conn, full.second, clock, service_id=full.service.id, latest_date=date(2027, 3, 7)
    )
    other_role = await ask(
        conn, full.second, clock, service_id=full.service.id, role="telehealth_counselor"
    )
    left = await ask(conn, full.second, clock, service_id=full.service.id)
    async with conn.transaction():
        await waitlist.leave(conn, caller_of(full.second), Trail("test"), left.id, now=clock.now)

    await cancel(conn, full, full.booked[0], clock)

    assert await events(conn) == []
    for request in (other_service, unlicensed, too_late, other_role):
        assert (await row(conn, request))["status"] == "waiting"
    assert (await row(conn, left))["status"] == "left"


async def test_a_request_is_not_told_twice_of_one_slot_but_is_of_another(
    conn: asyncpg.Connection, full: Full, clock: Clock, network: Network
) -> None:
    request = await ask(conn, full.second, clock, service_id=full.service.id)
    await cancel(conn, full, full.booked[1], clock)
    # The time is taken again, then freed again: the same slot, not told again.
    patient = await network.patient(full.first)
    again = await booking_in_store(
        conn,
        service_id=full.service.id,
        consultant_id=full.consultant_id,
        spoke_id=full.first.id,
        patient_id=patient.id,
        start=MON_8[1],
    )
    await cancel(conn, full, again, clock)
    assert len(await events(conn)) == 1
    # Another time opening is told: the request stays on the list after being told.
    await cancel(conn, full, full.booked[2], clock)
    sent = await events(conn)
    assert len(sent) == 2
    assert sent[1]["payload"]["data"]["slot"]["start"] == "2027-03-08T19:00:00Z"
    assert (await row(conn, request))["told_slot"].lower == MON_8[2]


async def test_a_reschedule_away_tells_of_the_time_it_left(
    conn: asyncpg.Connection, full: Full, clock: Clock
) -> None:
    await ask(conn, full.second, clock, service_id=full.service.id)
    async with conn.transaction():
        await moves.reschedule(
            conn,
            caller_of(full.first),
            Trail("test"),
            full.booked[0],
            start=datetime(2027, 3, 15, 16, 0, tzinfo=UTC),  # 09:00 in Los Angeles (PDT)
            consultant_id=None,
            now=clock.now,
        )
    sent = await events(conn)
    assert len(sent) == 1
    assert sent[0]["payload"]["data"]["slot"]["start"] == "2027-03-08T17:00:00Z"


async def test_new_hours_tell_of_the_earliest_time_they_open(
    conn: asyncpg.Connection, full: Full, clock: Clock
) -> None:
    await ask(conn, full.second, clock, service_id=full.service.id)
    rules = [
        scheduling_store.RuleRow(0, time(9), time(12), None, None, None),
        scheduling_store.RuleRow(1, time(9), time(11), None, None, None),  # Tuesdays too
    ]
    hub = Caller("hub_admin", "hub-test", KIND_SCOPES["hub_admin"])
    async with conn.transaction():
        await availability.publish(conn, hub, full.consultant_id, rules, [], now=clock.now)
    sent = await events(conn)
    assert len(sent) == 1
    # Tuesday 2 March 09:00 in Los Angeles: the first time the new hours open.
    assert sent[0]["payload"]["data"]["slot"]["start"] == "2027-03-02T17:00:00Z"
    # Publishing the same hours again opens nothing new.
    async with conn.transaction():
        await availability.publish(conn, hub, full.consultant_id, rules, [], now=clock.now)
    assert len(await events(conn)) == 1


async def test_joining_refuses_what_cannot_be(
    conn: asyncpg.Connection, full: Full, clock: Clock, network: Network
) -> None:
    stranger = await network.patient(full.second)
    cases = {
        "service_id": dict(service_id=999_999),
        "latest_date": dict(service_id=full.service.id, latest_date=date(2027, 2, 28)),
        "consultant_id": dict(service_id=full.other_service.id, consultant_id=full.consultant_id),
        "patient_id": dict(service_id=full.service.id, patient_id=stranger.id),
    }
    for field, fields in cases.items():
        with pytest.raises(ValidationFailed) as refused:
            await ask(conn, full.first, clock, **fields)
        assert [e.field for e in refused.value.errors] == [field]
    assert await conn.fetchval("SELECT count(*) FROM slot_waitlist") == 0


async def test_a_request_for_a_role_is_told_of_a_consultant_of_that_role(
    conn: asyncpg.Connection, full: Full, clock: Clock
) -> None:
    by_role = await ask(
        conn, full.second, clock, service_id=full.service.id, role="psychiatric_consultant"
    )
    await cancel(conn, full, full.booked[0], clock)
    told = await row(conn, by_role)
    assert told["status"] == "told"
    assert told["told_consultant_id"] == full.consultant_id
