"""Book the next one, from a consultant's session page: the same patient, service and
consultant at the same clinic time one or two weeks on, through the one booking write path;
a time that is not open says why and offers the consultant's nearest open times."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.consultant_pages.support import Hub, between, book, post


async def _bookings(conn: asyncpg.Connection) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT id, patient_id, spoke_id, service_id, consultant_id, lower(period) AS start,"
        " created_by, status FROM bookings ORDER BY lower(period)"
    )


async def test_the_session_page_offers_one_or_two_weeks_later(client: TestClient, hub: Hub) -> None:
    session = await book(client, hub, "2027-03-01T17:00:00Z")  # Monday 09:00 in Los Angeles

    html = await (await client.get(f"/hub/bookings/{session}/note")).text()

    offer = between(html, 'id="h-next"', "</section>")
    assert f'action="/hub/bookings/{session}/next"' in offer
    assert 'name="weeks" value="1"' in offer and 'name="weeks" value="2"' in offer


async def test_the_same_time_a_week_later_is_booked_for_the_clinic(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    session = await book(client, hub, "2027-03-01T17:00:00Z")
    page = f"/hub/bookings/{session}/next?weeks=1"
    html = await (await client.get(page)).text()
    assert "<h1>Book the next session: Okafor" in html
    assert 'value="2027-03-08T17:00:00Z" checked' in html and "Mon 8 Mar 2027, 09:00" in html
    assert "is not open" not in html

    response = await post(
        client, f"/hub/bookings/{session}/next", {"start": "2027-03-08T17:00:00Z"}, page
    )

    assert response.status == 303
    first, booked = await _bookings(conn)
    assert response.headers["Location"] == f"/hub/bookings/{booked['id']}/note"
    assert booked["start"] == datetime(2027, 3, 8, 17, tzinfo=UTC)
    same = ("patient_id", "spoke_id", "service_id", "consultant_id")
    assert [booked[k] for k in same] == [first[k] for k in same]
    assert booked["created_by"].startswith("user:") and booked["status"] == "booked"
    audited = await conn.fetchval(
        "SELECT count(*) FROM audit_log WHERE action = 'create' AND record_type = 'booking'"
        " AND record_id = $1 AND actor = $2",
        str(booked["id"]),
        booked["created_by"],
    )
    assert audited == 1
    landed = await (await client.get(response.headers["Location"])).text()
    assert "Booked the next session for Mon 8 Mar 2027, 09:00." in landed


async def test_two_weeks_later_keeps_the_clinics_time_across_daylight_saving(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    session = await book(client, hub, "2027-03-01T17:00:00Z")  # 12:00 in New York (EST)
    page = f"/hub/bookings/{session}/next?weeks=2"

    html = await (await client.get(page)).text()

    # 15 March: New York and Los Angeles both moved to daylight time the day before.
    assert 'value="2027-03-15T16:00:00Z" checked' in html and "Mon 15 Mar 2027, 09:00" in html
    response = await post(
        client,
        f"/hub/bookings/{session}/next",
        {"start": "2027-03-15T16:00:00Z", "weeks": "2"},
        page,
    )
    assert response.status == 303
    starts = [r["start"] for r in await _bookings(conn)]
    assert starts[-1] == datetime(2027, 3, 15, 16, tzinfo=UTC)


async def test_a_time_not_open_says_why_and_an_offered_time_books(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    session = await book(client, hub, "2027-03-01T17:00:00Z")
    await book(client, hub, "2027-03-08T17:00:00Z")  # the clinic already holds next Monday 09:00
    page = f"/hub/bookings/{session}/next?weeks=1"

    html = await (await client.get(page)).text()

    closed = between(html, "data-closed", "</div>")
    assert "Mon 8 Mar 2027, 09:00 is not open" in closed
    assert "Another booking already holds this time." in closed
    offered = between(html, "Nearest open times with", "</fieldset>")
    assert 'value="2027-03-08T18:00:00Z" required' in offered  # 10:00 that Monday
    assert 'value="2027-03-08T17:00:00Z"' not in offered
    response = await post(
        client, f"/hub/bookings/{session}/next", {"start": "2027-03-08T18:00:00Z"}, page
    )
    assert response.status == 303
    starts = [r["start"] for r in await _bookings(conn)]
    assert datetime(2027, 3, 8, 18, tzinfo=UTC) in starts and len(starts) == 3


async def test_a_refused_post_books_nothing_and_says_what_to_fix(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    session = await book(client, hub, "2027-03-01T17:00:00Z")
    await book(client, hub, "2027-03-08T18:00:00Z")
    page = f"/hub/bookings/{session}/next"
    action = f"/hub/bookings/{session}/next"

    outside = await post(client, action, {"start": "2027-03-08T16:00:00Z"}, page)  # 08:00
    taken = await post(client, action, {"start": "2027-03-08T18:00:00Z"}, page)
    earlier = await post(client, action, {"start": "2027-02-22T17:00:00Z"}, page)
    garbled = await post(client, action, {"start": "next monday"}, page)
    missing = await post(client, action, {}, page)

    assert (outside.status, taken.status, earlier.status) == (422, 409, 422)
    assert (garbled.status, missing.status) == (422, 422)
    assert "It is outside" in await outside.text() and "Nothing was booked" in await outside.text()
    assert "Another booking took this time" in await taken.text()
    assert "the next session starts after this one" in await earlier.text()
    assert 'href="#f-start">Time of the next session:' in await garbled.text()
    assert 'href="#f-start">Time of the next session: is required' in await missing.text()
    assert len(await _bookings(conn)) == 2


async def test_another_consultants_session_is_not_theirs_to_follow(
    client: TestClient, hub: Hub, network: Network, conn: asyncpg.Connection
) -> None:
    colleague = await network.consultant([hub.video])
    theirs = await book(client, hub, "2027-03-01T17:00:00Z", consultant_id=colleague.id)
    page = f"/hub/bookings/{theirs}/next"

    shown = await client.get(page)
    posted = await post(client, page, {"start": "2027-03-08T17:00:00Z"}, "/hub")

    assert (shown.status, posted.status) == (404, 404)
    assert len(await _bookings(conn)) == 1


async def test_a_session_of_a_course_says_so_and_its_next_week_is_already_held(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    response = await client.post(
        "/api/v1/series",
        json={
            "service_id": hub.video.id,
            "consultant_id": hub.consultant.id,
            "patient_id": str(hub.patient.id),
            "first_start": "2027-03-08T17:00:00Z",
            "repeat": "weekly",
            "count": 3,
        },
        headers={**hub.spoke.headers, "Idempotency-Key": "course-1"},
    )
    assert response.status == 201, await response.text()
    first = (await response.json())["bookings"][0]["id"]

    note = await (await client.get(f"/hub/bookings/{first}/note")).text()
    proposal = await (await client.get(f"/hub/bookings/{first}/next?weeks=1")).text()

    assert "Session 1 of a course the clinic booked" in note
    assert "later sessions may be booked already" in note
    assert "Mon 15 Mar 2027, 09:00 is not open" in proposal
    assert "Another booking already holds this time." in proposal
