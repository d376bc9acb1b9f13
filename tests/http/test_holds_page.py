"""The scheduler's booking page holds the chosen time (issue 15): it says until when, the Book
button books with the hold, Cancel releases it, and an expired hold says so with the nearest
times."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock
from tests.http.spoke_support import Clinic, post

START = "2027-03-08T18:00:00Z"  # 10:00 in Los Angeles, Monday
HOLD_ID = re.compile(r'name="hold_id" value="([0-9a-f-]{36})"')


def slot(clinic: Clinic) -> dict[str, str]:
    return {
        "service_id": str(clinic.video.id),
        "consultant_id": str(clinic.consultant.id),
        "start": START,
    }


async def open_page(client: TestClient, clinic: Clinic) -> tuple[str, str]:
    """The booking step for the clinic's patient: (the page, the hold id it carries)."""
    r = await client.get(
        "/spoke/book", params={**slot(clinic), "patient_id": str(clinic.patient.id)}
    )
    text = await r.text()
    assert r.status == 200, text
    found = HOLD_ID.search(text)
    assert found, "the page carries its hold"
    return text, found.group(1)


async def test_choosing_a_time_holds_it_and_says_until_when(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page, hold_id = await open_page(client, clinic)
    # The app's clock is 15:00 UTC, 10:00 in the clinic's New York: held five minutes.
    assert "Held for you until 10:05" in page
    assert "Cancel and let the time go" in page
    row = await conn.fetchrow("SELECT spoke_id, status FROM slot_holds WHERE id = $1", hold_id)
    assert row is not None and (row["spoke_id"], row["status"]) == (clinic.spoke.id, "active")

    again, same = await open_page(client, clinic)  # reloaded: the clinic's own hold, not taken
    assert same == hold_id
    assert "Held for you until 10:05" in again
    assert await conn.fetchval("SELECT count(*) FROM slot_holds") == 1

    booked = await post(
        client,
        "/spoke/book",
        {**slot(clinic), "hold_id": hold_id, "patient_id": str(clinic.patient.id), "reason": ""},
        clinic.csrf,
    )
    assert booked.status == 303, await booked.text()
    booking_id = await conn.fetchval("SELECT id FROM bookings")
    assert booked.headers["Location"] == f"/spoke/bookings/{booking_id}"
    row = await conn.fetchrow("SELECT status, booking_id FROM slot_holds WHERE id = $1", hold_id)
    assert row is not None and (row["status"], row["booking_id"]) == ("booked", booking_id)


async def test_cancel_releases_the_hold(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    _, hold_id = await open_page(client, clinic)
    released = await post(
        client, "/spoke/book/release", {**slot(clinic), "hold_id": hold_id}, clinic.csrf
    )
    assert released.status == 303
    assert released.headers["Location"].startswith("/spoke/find?")
    assert await conn.fetchval("SELECT status FROM slot_holds WHERE id = $1", hold_id) == "released"
    assert await conn.fetchval("SELECT count(*) FROM consultant_holds") == 0
    notice = await (await client.get(released.headers["Location"])).text()
    assert "it is open to others again" in notice


async def test_an_expired_hold_says_so_and_offers_the_nearest_times(
    client: TestClient, clinic: Clinic, clock: Clock, conn: asyncpg.Connection
) -> None:
    _, hold_id = await open_page(client, clinic)
    clock.now += timedelta(minutes=6)
    values = {**slot(clinic), "hold_id": hold_id, "patient_id": str(clinic.patient.id)}

    late = await client.get("/spoke/book", params=values)
    page = await late.text()
    assert "Your hold on this time expired" in page
    assert "It was held for you until 10:05." in page
    assert "Nearest open times" in page

    refused = await post(client, "/spoke/book", {**values, "reason": ""}, clinic.csrf)
    text = await refused.text()
    assert refused.status == 409, text
    assert "Not booked: the hold expired" in text
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
