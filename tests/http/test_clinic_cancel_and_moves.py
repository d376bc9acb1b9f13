"""Cancelling asks once and offers a way back; a moved booking shows the time it was moved from."""

from __future__ import annotations

import re
from html import unescape

import asyncpg
from aiohttp.test_utils import TestClient

from tests.http.spoke_support import Clinic, book_via_api, post

MONDAY_NEXT_WEEK = "2027-03-08T17:00:00Z"  # 12:00 in the clinic's New York


async def test_cancel_first_asks_saying_what_will_happen_and_changes_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    path = f"/spoke/bookings/{booking['id']}"

    asked = await post(client, f"{path}/cancel", {"reason": "Patient in hospital"}, clinic.csrf)

    assert asked.status == 200
    page = unescape(await asked.text())
    question = page[page.index('<details class="confirm" open>') : page.index("</details>")]
    assert (
        f"This cancels {clinic.patient.given_name} Quimby's session on Mon 8 Mar 2027, 12:00: "
        "the time opens to others, the video link stops working, and it cannot be undone."
    ) in question
    assert 'name="confirmed" value="yes"' in question
    assert 'name="reason" value="Patient in hospital"' in question  # the reason comes along
    assert "Yes, cancel the session" in question
    assert f'href="{path}">No, keep the session</a>' in page
    assert await conn.fetchval("SELECT status FROM bookings") == "booked"


async def test_a_cancel_post_without_confirmed_yes_never_cancels(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    path = f"/spoke/bookings/{booking['id']}"

    for confirmed in ("", "no", "YES ", "true"):
        stray = await post(
            client, f"{path}/cancel", {"reason": "stray", "confirmed": confirmed}, clinic.csrf
        )
        assert stray.status == 200 and "Yes, cancel the session" in await stray.text()

    assert await conn.fetchval("SELECT status FROM bookings") == "booked"
    assert await conn.fetchval("SELECT count(*) FROM audit_log WHERE action = 'cancel'") == 0


async def test_after_cancelling_the_page_offers_to_book_another_time_with_the_same_people(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    path = f"/spoke/bookings/{booking['id']}"

    done = await post(
        client, f"{path}/cancel", {"reason": "Moved away", "confirmed": "yes"}, clinic.csrf
    )

    assert done.status == 303 and done.headers["Location"] == path
    assert await conn.fetchval("SELECT status FROM bookings") == "cancelled"
    page = unescape(await (await client.get(path)).text())
    assert "Cancelled. The time is open to others again." in page
    again = re.search(r'href="([^"]+)">Book another time</a>', page)
    assert again is not None
    link = again.group(1)
    assert link.startswith("/spoke/find?")
    assert f"service_id={clinic.video.id}" in link
    assert f"consultant_id={clinic.consultant.id}" in link
    assert 'href="/spoke">' in page  # and back to the clinic's bookings
    assert "Yes, cancel" not in page and "/cancel" not in page


async def test_a_moved_booking_shows_the_time_it_was_moved_from(
    client: TestClient, clinic: Clinic
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    path = f"/spoke/bookings/{booking['id']}"
    before = unescape(await (await client.get(path)).text())
    assert "Moved from" not in before

    moved = await post(client, f"{path}/reschedule", {"start": "2027-03-08T19:00:00Z"}, clinic.csrf)
    assert moved.status == 303
    again = await post(client, f"{path}/reschedule", {"start": "2027-03-08T18:00:00Z"}, clinic.csrf)
    assert again.status == 303

    page = unescape(await (await client.get(path)).text())
    assert "Rescheduled to Mon 8 Mar 2027, 13:00." in page
    assert "Mon 8 Mar 2027, 13:00\u201314:00" in page
    assert "Moved from Mon 8 Mar 2027, 14:00" in page  # the latest move's old time


async def test_the_booking_page_shows_no_sequence_number_and_names_the_zone_one_way(
    client: TestClient, clinic: Clinic
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)

    page = unescape(await (await client.get(f"/spoke/bookings/{booking['id']}")).text())

    assert "Sequence" not in page and "goes up with every change" not in page
    assert "(America/New York)" in page and "America/New_York" not in page
    assert "Video session" in page  # the service's kind, by the shared label
