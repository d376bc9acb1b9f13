"""The demo books one weekly counseling course, as a scheduler would, for a demo patient."""

from __future__ import annotations

from zoneinfo import ZoneInfo

import asyncpg

from telehub import demo
from telehub.settings import Settings
from tests.factories import Clock


async def test_the_first_demo_clinic_has_a_weekly_counseling_series_of_twelve(
    conn: asyncpg.Connection, settings: Settings, clock: Clock
) -> None:
    network = await demo.seed(conn, settings, now=clock.now, authenticators=False)

    course = network["spokes"][0]["series"]
    assert course is not None and course["sessions"] == 12
    rows = await conn.fetch(
        """
        SELECT lower(b.period) AS start, b.series_position, c.name, s.repeat, sv.name AS service
        FROM bookings b JOIN series s ON s.id = b.series_id
        JOIN consultants c ON c.id = b.consultant_id JOIN services sv ON sv.id = b.service_id
        WHERE s.id = $1::uuid ORDER BY b.series_position
        """,
        course["id"],
    )
    assert [r["series_position"] for r in rows] == list(range(1, 13))
    assert {(r["name"], r["repeat"], r["service"]) for r in rows} == {
        ("Jordan Ellis", "weekly", "Video counseling session")
    }
    new_york = ZoneInfo("America/New_York")
    # Monday 1 March 2027: from Tuesday 9 March, across the change to daylight time.
    assert rows[0]["start"].astimezone(new_york).strftime("%a %d %b %H:%M") == "Tue 09 Mar 15:00"
    assert all(network["spokes"][i]["series"] is None for i in range(1, 5))
