"""A time that is not open says why before any Book button, and offers the nearest open times."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from html import unescape
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from scheduling.store import ExceptionRow
from tests.factories import Network
from tests.http.spoke_support import Clinic, book_via_api, field_html, post

# The clinic's consultant works Mondays 09:00-12:00 in Los Angeles: 17:00, 18:00, 19:00 UTC.
MONDAY_NEXT_WEEK = "2027-03-08T17:00:00Z"


def slot(c: Clinic, start: str, **more: Any) -> dict[str, Any]:
    """The query of a booking link from the week grid."""
    return {
        "service_id": str(c.video.id),
        "consultant_id": str(c.consultant.id),
        "start": start,
        **more,
    }


def nearest(page: str) -> str:
    """The nearest-open-times part of the booking page."""
    start = page.index('<section aria-labelledby="h-nearest"')
    return page[start : page.index("</section>", start)]


def starts(html: str) -> list[str]:
    """The start times the links in some markup book."""
    return re.findall(r"start=([0-9T:\-]+Z)", html)


def offers_no_book_button(page: str) -> bool:
    """No form on the page books (or goes on to book) the time."""
    return 'action="/spoke/book"' not in page and '<button type="submit">Book' not in page


async def test_a_taken_time_says_so_offers_no_book_button_and_links_the_nearest_times(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    other = await network.consultant([clinic.video], hours=((0, time(9), time(12)),))

    response = await client.get("/spoke/book", params=slot(clinic, MONDAY_NEXT_WEEK))

    assert response.status == 200
    page = unescape(await response.text())
    assert "This time is not open" in page and "Another booking already holds this time." in page
    assert page.index("Another booking already holds this time.") < page.index('id="h-nearest"')
    assert offers_no_book_button(page)
    section = nearest(page)
    mine, theirs = section.split("With someone else")
    # The same consultant's first: the two before, then three after (clocks change on 14 March).
    assert starts(mine) == [
        "2027-03-01T18:00:00Z",
        "2027-03-01T19:00:00Z",
        "2027-03-08T18:00:00Z",
        "2027-03-08T19:00:00Z",
        "2027-03-15T16:00:00Z",
    ]
    assert f"With {clinic.consultant.name}" in mine
    assert "Mon 8 Mar 2027, 13:00" in mine  # clinic time, the one date format
    # Then the other consultant's nearest: the very time asked for, and the hours after it.
    assert starts(theirs) == [MONDAY_NEXT_WEEK, "2027-03-08T18:00:00Z", "2027-03-08T19:00:00Z"]
    assert f"consultant_id={other.id}" in theirs and other.name in theirs


@pytest.mark.parametrize(
    ("start", "service", "reason"),
    [
        pytest.param("2027-02-22T17:00:00Z", {}, "It has already passed.", id="in-the-past"),
        pytest.param(
            "2027-03-01T17:00:00Z",
            {"min_notice_minutes": 24 * 60},
            "It is too soon: Quick visit is booked at least 1 day ahead.",
            id="too-soon",
        ),
        pytest.param(
            "2027-03-15T16:00:00Z",
            {"horizon_days": 10},
            "It is too far ahead: Quick visit is booked at most 10 days ahead.",
            id="past-the-horizon",
        ),
        pytest.param(
            "2027-03-09T17:00:00Z",
            {},
            "It is outside {consultant}'s hours for Quick visit.",
            id="outside-the-hours",
        ),
        pytest.param(
            "2027-03-08T17:30:00Z",
            {},
            "Quick visit with {consultant} does not start at this time.",
            id="not-a-start-time",
        ),
    ],
)
async def test_the_page_names_why_a_time_is_not_open(
    client: TestClient,
    network: Network,
    clinic: Clinic,
    start: str,
    service: dict[str, Any],
    reason: str,
) -> None:
    quick = await network.service(name="Quick visit", **service)
    someone = await network.consultant([quick])
    query = {"service_id": quick.id, "consultant_id": someone.id, "start": start}

    page = unescape(await (await client.get("/spoke/book", params=query)).text())

    assert reason.format(consultant=someone.name) in page
    assert offers_no_book_button(page)
    assert starts(nearest(page))  # somewhere near, something is open


async def test_a_consultant_not_licensed_where_the_patient_lives_is_named(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    oregon = await network.patient(clinic.spoke, state="OR", family_name="Oakes")
    query = slot(clinic, MONDAY_NEXT_WEEK, patient_id=str(oregon.id))

    page = unescape(await (await client.get("/spoke/book", params=query)).text())

    assert f"{clinic.consultant.name} is not licensed in OR, where the patient is." in page
    assert offers_no_book_button(page)
    assert "No open time for Video visit within a week of it." in page
    # For a patient in Vermont, where the consultant is licensed, the time is open.
    vermont = unescape(
        await (
            await client.get(
                "/spoke/book",
                params=slot(clinic, MONDAY_NEXT_WEEK, patient_id=str(clinic.patient.id)),
            )
        ).text()
    )
    assert "This time is not open" not in vermont and 'name="reason"' in vermont


async def test_time_off_is_named_and_the_nearest_times_keep_the_patient(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    away = ExceptionRow(
        "time_off",
        datetime(2027, 3, 8, 8, tzinfo=UTC),
        datetime(2027, 3, 9, 8, tzinfo=UTC),
        None,
        "Conference",
    )
    traveller = await network.consultant([clinic.video], exceptions=[away])
    query = {
        "service_id": clinic.video.id,
        "consultant_id": traveller.id,
        "start": MONDAY_NEXT_WEEK,
        "patient_id": str(clinic.patient.id),
    }

    page = unescape(await (await client.get("/spoke/book", params=query)).text())

    assert f"{traveller.name} is on time off then." in page
    assert "Conference" not in page  # the consultant's own note stays with the hub
    links = re.findall(r'href="([^"]+)"', nearest(page))
    booking_links = [link for link in links if "start=" in link]
    assert booking_links and all(f"patient_id={clinic.patient.id}" in a for a in booking_links)


async def test_a_post_for_a_time_that_closed_says_why_books_nothing_and_offers_nearest_times(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = {
        "patient_id": str(clinic.patient.id),
        **slot(clinic, "2027-03-08T17:30:00Z"),
        "reason": "Dose review",
    }

    response = await post(client, "/spoke/book", form, clinic.csrf)

    assert response.status == 422
    page = unescape(await response.text())
    assert (
        f"This time is not open any more. Video visit with {clinic.consultant.name} "
        "does not start at this time. Nothing was booked." in page
    )
    assert offers_no_book_button(page)
    section = nearest(page)
    assert "2027-03-08T17:00:00Z" in starts(section)
    assert "reason=Dose+review" in section  # what was typed comes along
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0


async def test_the_api_refuses_a_closed_time_with_the_same_reason(
    client: TestClient, clinic: Clinic
) -> None:
    response = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": clinic.video.id,
            "consultant_id": clinic.consultant.id,
            "patient_id": str(clinic.patient.id),
            "start": "2027-03-09T17:00:00Z",
        },
        headers={**clinic.spoke.headers, "Idempotency-Key": "closed-tuesday"},
    )

    assert response.status == 422
    problem = await response.json()
    assert problem["type"] == "/problems/not-an-open-slot"
    words = f"It is outside {clinic.consultant.name}'s hours for Video visit."
    assert problem["errors"] == [{"field": "start", "detail": words}]
    assert words in problem["detail"]


async def test_a_reschedule_to_a_closed_time_says_why_next_to_the_time(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, MONDAY_NEXT_WEEK)
    path = f"/spoke/bookings/{booking['id']}"

    closed = await post(
        client, f"{path}/reschedule", {"start": "2027-02-22T17:00:00Z"}, clinic.csrf
    )

    assert closed.status == 422
    assert "This time is not open any more. It has already passed." in field_html(
        unescape(await closed.text()), "f-start"
    )
    assert await conn.fetchval("SELECT lower(period) FROM bookings") == datetime(
        2027, 3, 8, 17, tzinfo=UTC
    )
