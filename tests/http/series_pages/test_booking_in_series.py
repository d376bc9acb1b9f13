"""A booking's page says when the booking is a session of a course, and links to the course;
a single booking's page says nothing of one."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from tests.http.series_pages.support import confirmation, plan, sessions
from tests.http.spoke_support import Clinic, book_via_api, post


async def test_a_session_of_a_course_says_which_and_links_to_the_course(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    html = await (await plan(client, clinic, count="3")).text()
    booked = await post(client, "/spoke/series", confirmation(html), clinic.csrf)
    assert booked.status == 303
    second = next(s for s in await sessions(conn) if s["position"] == 2)
    booking_id = await conn.fetchval(
        "SELECT id FROM bookings WHERE series_id = $1 AND series_position = 2",
        second["series_id"],
    )

    response = await client.get(f"/spoke/bookings/{booking_id}")

    page = await response.text()
    assert response.status == 200
    assert "Session 2 of 3 of a weekly course" in page
    link = f'<a href="/spoke/series/{second["series_id"]}">Session 2 of 3'
    assert link in page and booked.headers["Location"] == f"/spoke/series/{second['series_id']}"


async def test_a_course_every_two_weeks_says_so(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    html = await (await plan(client, clinic, count="2", repeat="every_2_weeks")).text()
    assert (await post(client, "/spoke/series", confirmation(html), clinic.csrf)).status == 303
    first = await conn.fetchval("SELECT id FROM bookings WHERE series_position = 1")

    page = await (await client.get(f"/spoke/bookings/{first}")).text()

    assert "Session 1 of 2 of a course every two weeks" in page


async def test_a_single_booking_says_nothing_of_a_course(
    client: TestClient, clinic: Clinic
) -> None:
    booked = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")

    response = await client.get(f"/spoke/bookings/{booked['id']}")

    page = await response.text()
    assert response.status == 200
    assert "Session " not in page and "course" not in page.lower()
    assert "/spoke/series/" not in page
