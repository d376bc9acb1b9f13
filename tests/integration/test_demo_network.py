"""The demo network looks like a running program: real time off, hours that do not run out."""

from __future__ import annotations

import uuid
from datetime import date, time, timedelta
from zoneinfo import ZoneInfo

import asyncpg

from scheduling import availability, feeds
from scheduling.feed_store import FeedOwner
from scheduling.slots import Period
from telehub import demo
from telehub.settings import Settings
from tests.factories import Clock


async def test_the_conference_is_two_working_days_on_the_consultants_own_clock(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)

    consultant = network["consultants"][0]
    zone = ZoneInfo(consultant["timezone"])
    rows = await conn.fetch(
        "SELECT lower(period) AS start, upper(period) AS end FROM availability_exceptions"
        " WHERE consultant_id = $1 AND kind = 'time_off' AND note = 'Conference'"
        " ORDER BY lower(period)",
        consultant["id"],
    )
    days = [(r["start"].astimezone(zone), r["end"].astimezone(zone)) for r in rows]
    # Monday 1 March 2027: three weeks on is the week of 22 March; its Thursday and Friday.
    assert [start.date() for start, _ in days] == [date(2027, 3, 25), date(2027, 3, 26)]
    for start, end in days:
        assert (start.time(), end.time(), end.date()) == (time(8), time(17), start.date())


async def test_demo_hours_have_no_end_and_began_before_the_dashboards_look_back(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    await demo.seed(conn, settings, now=clock.now, authenticators=False)

    rules = await conn.fetch("SELECT valid_from, valid_until FROM availability_rules")
    assert rules
    assert all(r["valid_until"] is None for r in rules)
    # The coordinator's dashboard shows twelve weeks back.
    assert all(r["valid_from"] <= clock.now.date() - timedelta(weeks=12) for r in rules)


async def test_seven_weeks_after_seeding_the_demo_still_offers_video_visits(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)
    [video] = [s for s in network["services"] if s["name"] == "Video visit: MOUD management"]

    later = clock.now + timedelta(weeks=7)
    slots = await availability.search(
        conn,
        service_id=video["id"],
        window=Period(later, later + timedelta(days=7)),
        consultant_id=None,
        patient_state="VT",
        now=later,
    )

    assert slots


async def test_every_demo_feed_url_can_be_shown_again_to_its_owner(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)

    for consultant in network["consultants"]:
        owner = FeedOwner(consultant_id=consultant["id"])
        shown = await feeds.current(conn, owner, secret_key=settings.secret_key)
        assert shown is not None and shown.token is not None
        assert consultant["feed_url"].endswith(f"/{shown.token}.ics")


async def test_the_first_demo_clinic_waits_for_an_earlier_moud_visit(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)

    first, others = network["spokes"][0], network["spokes"][1:]
    row = await conn.fetchrow(
        "SELECT spoke_id, status, role, latest_date FROM slot_waitlist WHERE id = $1",
        uuid.UUID(first["waitlist"]),
    )
    assert row is not None and row["spoke_id"] == first["id"] and row["status"] == "waiting"
    assert row["latest_date"] == (clock.now + timedelta(days=10)).date()
    assert all(spoke["waitlist"] is None for spoke in others)
