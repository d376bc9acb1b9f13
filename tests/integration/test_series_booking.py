"""Series booked through the domain on a real database: every session or none, overrides,
the consultant of a role, the clinic's wall-clock time against the consultant's hours."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest

from hub.store import Consultant
from scheduling import booking_store, series
from scheduling.series_schemas import SeriesIn
from scheduling.slots import Period
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.errors import NotAnOpenSlot
from telehub.validation import validate
from tests.factories import Network, SpokeUser

NEW_YORK = ZoneInfo("America/New_York")
NOW = datetime(2027, 2, 22, 15, 0, tzinfo=UTC)
FIRST = datetime(2027, 3, 1, 10, 0, tzinfo=NEW_YORK)  # 15:00 UTC; 14:00 UTC from 14 March
MONDAY_9_TO_12 = ((0, time(9), time(12)),)


def caller_of(spoke: SpokeUser) -> Caller:
    """The spoke's API client as the domain sees it."""
    return Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)


def body(**fields: Any) -> SeriesIn:
    """A weekly series of four from Monday 1 March 2027, 10:00 New York."""
    values: dict[str, Any] = dict(first_start=FIRST.isoformat(), repeat="weekly", count=4)
    values.update(fields)
    return validate(
        SeriesIn, {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in values.items()}
    )


class Course:
    """A 60-minute counseling service, a New York counselor free Mondays 9-12, a NY clinic."""

    def __init__(self, network: Network) -> None:
        self.network = network

    async def build(self, *, zone: str = "America/New_York", hours: Any = MONDAY_9_TO_12) -> Course:
        self.service = await self.network.service(
            name="Counseling", duration_minutes=60, roles=["telehealth_counselor"]
        )
        self.counselor = await self.counselor_of(zone=zone, hours=hours)
        self.spoke = await self.network.spoke(timezone="America/New_York")
        self.patient = await self.network.patient(self.spoke)
        self.caller = caller_of(self.spoke)
        self.trail = Trail(self.caller.actor)
        return self

    async def counselor_of(
        self, *, zone: str = "America/New_York", hours: Any = MONDAY_9_TO_12
    ) -> Consultant:
        """A counselor for the course's service (another one, once the course is built)."""
        return await self.network.consultant(
            [self.service], timezone=zone, hours=hours, role="telehealth_counselor"
        )

    def ask(self, **fields: Any) -> SeriesIn:
        values: dict[str, Any] = dict(
            service_id=self.service.id,
            consultant_id=self.counselor.id,
            patient_id=self.patient.id,
        )
        values.update(fields)
        return body(**{k: v for k, v in values.items() if v is not None})


async def rival_at(
    conn: asyncpg.Connection,
    network: Network,
    course: Course,
    start: datetime,
    counselor: Consultant | None = None,
) -> None:
    """Another clinic's booking at `start` with the counselor (the course's, unless named)."""
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    period = Period(start, start + timedelta(minutes=60))
    await booking_store.insert_booking(
        conn,
        service_id=course.service.id,
        consultant_id=(counselor or course.counselor).id,
        spoke_id=spoke.id,
        patient_id=patient.id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )


async def counts(conn: asyncpg.Connection, course: Course) -> tuple[int, int]:
    """(series, bookings) of the course's clinic."""
    return (
        await conn.fetchval("SELECT count(*) FROM series WHERE spoke_id = $1", course.spoke.id),
        await conn.fetchval("SELECT count(*) FROM bookings WHERE spoke_id = $1", course.spoke.id),
    )


@pytest.fixture
async def course(network: Network) -> Course:
    """The counseling course's service, counselor, clinic and patient."""
    return await Course(network).build()


async def test_every_session_keeps_ten_in_new_york_across_daylight_saving(
    conn: asyncpg.Connection, course: Course
) -> None:
    booked = await series.book(conn, course.caller, course.trail, course.ask(), NOW)

    local = [b.start.astimezone(NEW_YORK) for b in booked.bookings]
    assert [(t.day, t.hour, t.minute) for t in local] == [
        (1, 10, 0),
        (8, 10, 0),
        (15, 10, 0),
        (22, 10, 0),
    ]
    assert [b.series_position for b in booked.bookings] == [1, 2, 3, 4]
    assert {b.series_id for b in booked.bookings} == {booked.id}
    assert booked.zone == "America/New_York" and booked.count == 4


async def test_one_session_taken_books_nothing_and_names_it_with_alternatives(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    third = datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK)
    await rival_at(conn, network, course, third)
    before = await counts(conn, course)

    with pytest.raises(series.SeriesNotOpen) as refused:
        async with conn.transaction():
            await series.book(conn, course.caller, course.trail, course.ask(), NOW)

    plan = refused.value.plan
    assert [o.position for o in plan.not_open] == [3]
    assert plan.not_open[0].reason == "Another booking already holds this time."
    alternatives = plan.not_open[0].alternatives
    assert alternatives and all(a.astimezone(NEW_YORK).date() == third.date() for a in alternatives)
    assert third not in alternatives
    assert refused.value.status == 409 and refused.value.slug == "series-conflict"
    assert refused.value.extra["not_open"][0]["position"] == 3
    assert await counts(conn, course) == before


async def test_an_override_from_the_alternatives_books_the_whole_series(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    await rival_at(conn, network, course, datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK))
    plan = await series.plan(conn, course.caller, course.trail, course.ask(), NOW)
    chosen = plan.not_open[0].alternatives[0]

    booked = await series.book(
        conn,
        course.caller,
        course.trail,
        course.ask(overrides=[{"occurrence": 3, "start": chosen.isoformat()}]),
        NOW,
    )

    assert [b.start for b in booked.bookings][2] == chosen
    assert len(booked.bookings) == 4


async def test_sessions_of_one_series_may_not_overlap_each_other(
    conn: asyncpg.Connection, course: Course
) -> None:
    second = datetime(2027, 3, 8, 10, 0, tzinfo=NEW_YORK)

    plan = await series.plan(
        conn,
        course.caller,
        course.trail,
        course.ask(overrides=[{"occurrence": 3, "start": second.isoformat()}]),
        NOW,
    )

    assert [o.position for o in plan.not_open] == [3]


async def test_a_first_start_not_open_is_refused_naming_first_start(
    conn: asyncpg.Connection, course: Course
) -> None:
    with pytest.raises(NotAnOpenSlot) as refused:
        await series.book(
            conn, course.caller, course.trail, course.ask(first_start="2027-03-01T20:00:00Z"), NOW
        )

    assert [e.field for e in refused.value.errors] == ["first_start"]
    assert "outside" in refused.value.errors[0].detail
    assert refused.value.extra["alternatives"]


async def test_a_counselor_whose_zone_keeps_standard_time_loses_the_later_sessions(
    conn: asyncpg.Connection, network: Network
) -> None:
    # 10:00 New York is 08:00 in Phoenix until 14 March, then 07:00: before the counselor's hours.
    course = await Course(network).build(zone="America/Phoenix", hours=((0, time(8), time(9)),))

    plan = await series.plan(conn, course.caller, course.trail, course.ask(), NOW)

    assert [o.position for o in plan.not_open] == [3, 4]
    assert all("outside" in (o.reason or "") for o in plan.not_open)


async def test_later_sessions_may_run_past_the_booking_horizon(
    conn: asyncpg.Connection, network: Network
) -> None:
    course = Course(network)
    await course.build()
    course.service = await network.service(
        name="Short-notice counseling",
        duration_minutes=60,
        horizon_days=14,
        roles=["telehealth_counselor"],
    )
    course.counselor = await course.counselor_of()

    booked = await series.book(conn, course.caller, course.trail, course.ask(count=12), NOW)

    assert len(booked.bookings) == 12
    with pytest.raises(NotAnOpenSlot):
        await series.plan(
            conn, course.caller, course.trail, course.ask(first_start="2027-03-22T14:00:00Z"), NOW
        )


async def test_any_counselor_resolves_to_the_lowest_id_with_every_session_open(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    other = await course.counselor_of()
    await rival_at(conn, network, course, datetime(2027, 3, 8, 10, 0, tzinfo=NEW_YORK))

    booked = await series.book(
        conn,
        course.caller,
        course.trail,
        course.ask(consultant_id=None, role="telehealth_counselor"),
        NOW,
    )

    assert course.counselor.id < other.id
    assert booked.consultant_id == other.id


async def test_cancel_from_a_session_keeps_the_earlier_ones_and_audits_each(
    conn: asyncpg.Connection, course: Course
) -> None:
    booked = await series.book(conn, course.caller, course.trail, course.ask(), NOW)

    kept = await series.cancel_from(
        conn, course.caller, course.trail, booked.id, 3, "Moving away", NOW
    )

    assert [b.status for b in kept.bookings] == ["booked", "booked", "cancelled", "cancelled"]
    assert kept.bookings[2].cancel_reason == "Moving away"
    cancelled = await conn.fetch(
        "SELECT record_id FROM audit_log WHERE action = 'cancel' AND record_type = 'booking'"
    )
    assert {r["record_id"] for r in cancelled} == {str(b.id) for b in kept.bookings[2:]}


async def test_for_patient_lists_the_patients_series_newest_first_for_its_clinic_only(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    first = await series.book(conn, course.caller, course.trail, course.ask(count=2), NOW)
    later = await series.book(
        conn,
        course.caller,
        course.trail,
        course.ask(first_start="2027-03-01T16:00:00Z", count=2),
        NOW,
    )
    stranger = caller_of(await network.spoke())

    mine = await series.for_patient(conn, course.caller, course.trail, course.patient.id)
    theirs = await series.for_patient(conn, stranger, Trail(stranger.actor), course.patient.id)

    assert [s.id for s in mine] == [later.id, first.id]
    assert [len(s.bookings) for s in mine] == [2, 2]
    assert theirs == []


async def test_a_first_start_another_booking_holds_is_a_conflict_not_a_bad_field(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    await rival_at(conn, network, course, FIRST)

    with pytest.raises(series.SeriesNotOpen) as refused:
        await series.book(conn, course.caller, course.trail, course.ask(), NOW)

    assert [o.position for o in refused.value.plan.not_open] == [1]
    assert refused.value.plan.not_open[0].alternatives


async def test_when_no_counselor_has_every_session_the_conflict_names_the_one_with_fewest(
    conn: asyncpg.Connection, network: Network, course: Course
) -> None:
    other = await course.counselor_of()
    await rival_at(conn, network, course, datetime(2027, 3, 8, 10, 0, tzinfo=NEW_YORK))
    await rival_at(conn, network, course, datetime(2027, 3, 15, 10, 0, tzinfo=NEW_YORK))
    await rival_at(conn, network, course, datetime(2027, 3, 22, 10, 0, tzinfo=NEW_YORK), other)
    before = await counts(conn, course)

    plan = await series.plan(
        conn,
        course.caller,
        course.trail,
        course.ask(consultant_id=None, role="telehealth_counselor"),
        NOW,
    )

    assert plan.consultant_id == other.id
    assert [o.position for o in plan.not_open] == [4]
    assert await counts(conn, course) == before  # planning writes nothing
