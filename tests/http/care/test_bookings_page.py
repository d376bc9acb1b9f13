"""The clinic's bookings list: any date, filtered by patient, consultant, service, status and
days, a page at a time with the filters kept; a filter it cannot use says what to fix."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network, booking_in_store
from tests.http.care.support import Record


def booking_links(page: str) -> list[str]:
    """The bookings listed, as the ids their rows link to, top to bottom."""
    return re.findall(r'href="/spoke/bookings/([0-9a-f-]{36})"', page)


def next_page(page: str) -> str | None:
    """Where the 'Next page' link goes."""
    found = re.search(r'href="([^"]+)" rel="next"', page)
    return found.group(1).replace("&amp;", "&") if found else None


async def listed(client: TestClient, **query: str) -> str:
    """The bookings page under these filters (asserting it answers 200)."""
    response = await client.get("/spoke/bookings", params=query)
    text = await response.text()
    assert response.status == 200, text
    return text


async def test_every_booking_is_listed_by_start_cancelled_ones_included(
    client: TestClient, record: Record
) -> None:
    page = await listed(client)

    r = record
    assert booking_links(page)[:5] == [
        r.unrecorded,
        r.done,
        r.soon["id"],
        r.cancelled["id"],
        r.later["id"],
    ]
    assert len(booking_links(page)) == 6  # and the other patient's, on the 15th
    assert "Cancelled" in page and "Completed" in page
    assert page.count(f'href="/spoke/patients/{r.patient.id}"') == 5
    assert "Otherly" in page


async def test_the_menu_links_the_bookings_list(client: TestClient, record: Record) -> None:
    page = await listed(client)
    assert '<a href="/spoke/bookings" aria-current="page">Bookings</a>' in page


async def test_filtering_by_status_shows_only_the_cancelled_ones(
    client: TestClient, record: Record
) -> None:
    page = await listed(client, status="cancelled")

    assert booking_links(page) == [record.cancelled["id"]]
    assert '<option value="cancelled" selected>' in page


async def test_filtering_by_patient_leaves_out_the_other_patients_bookings(
    client: TestClient, record: Record
) -> None:
    page = await listed(client, patient_id=str(record.patient.id))

    assert len(booking_links(page)) == 5
    assert "Otherly" not in page.split("<table")[1]


async def test_filtering_by_days_keeps_the_bookings_on_those_days_in_the_clinics_zone(
    client: TestClient, record: Record
) -> None:
    r = record
    one_day = await listed(client, from_date="2027-03-08", to_date="2027-03-08")
    from_then = await listed(client, from_date="2027-03-01")
    until_then = await listed(client, to_date="2027-02-22")

    assert booking_links(one_day) == [r.soon["id"], r.cancelled["id"], r.later["id"]]
    assert len(booking_links(from_then)) == 4
    assert booking_links(until_then) == [r.unrecorded, r.done]


async def test_filtering_by_consultant_and_by_service(
    client: TestClient, conn: asyncpg.Connection, network: Network, record: Record
) -> None:
    other_service = await network.service(name="Medication review")
    someone = await network.consultant([other_service])
    theirs = await booking_in_store(
        conn,
        service_id=other_service.id,
        consultant_id=someone.id,
        spoke_id=record.spoke.id,
        patient_id=record.patient.id,
        start=datetime(2027, 3, 9, 17, tzinfo=UTC),
    )

    by_consultant = await listed(client, consultant_id=str(someone.id))
    by_service = await listed(client, service_id=str(other_service.id))
    by_the_first_service = await listed(client, service_id=str(record.video.id))

    assert booking_links(by_consultant) == [str(theirs)]
    assert booking_links(by_service) == [str(theirs)]
    assert str(theirs) not in booking_links(by_the_first_service)
    assert len(booking_links(by_the_first_service)) == 6


async def test_pages_follow_one_another_and_keep_the_filters(
    client: TestClient, conn: asyncpg.Connection, record: Record
) -> None:
    r = record
    start = datetime(2026, 6, 1, 17, tzinfo=UTC)
    for day in range(26):
        await booking_in_store(
            conn,
            service_id=r.video.id,
            consultant_id=r.consultant.id,
            spoke_id=r.spoke.id,
            patient_id=r.patient.id,
            start=start + timedelta(days=day),
        )

    first = await listed(client, patient_id=str(r.patient.id), status="booked")
    target = next_page(first)
    assert target is not None
    second = await (await client.get(target)).text()

    assert len(booking_links(first)) == 25
    assert f"patient_id={r.patient.id}" in target and "status=booked" in target
    # 26 older sessions, the one not recorded, and the two still to come are booked.
    assert len(booking_links(second)) == 26 + 3 - 25
    assert booking_links(second)[1:] == [r.unrecorded, r.soon["id"], r.later["id"]]
    assert not set(booking_links(first)) & set(booking_links(second))
    assert next_page(second) is None
    assert '<option value="booked" selected>' in second
    first_again = re.search(r'href="([^"]+)">First page<', second)
    assert first_again is not None
    again = await (await client.get(first_again.group(1).replace("&amp;", "&"))).text()
    assert booking_links(again) == booking_links(first)


async def test_a_filter_it_cannot_use_says_what_to_fix_and_lists_nothing(
    client: TestClient, network: Network, record: Record
) -> None:
    rival = await network.spoke()
    theirs = await network.patient(rival)
    cases = {
        "to_date": ({"from_date": "2027-03-08", "to_date": "2027-03-01"}, "To: must not be before"),
        "from_date": ({"from_date": "8 March"}, "From: must be a date"),
        "patient_id": ({"patient_id": str(theirs.id)}, "Patient: choose one from the list"),
        "status": ({"status": "lost"}, "Status: choose one of the options listed"),
        "after": ({"after": "nonsense"}, "Page: is not a page of this list"),
    }
    for field, (query, words) in cases.items():
        response = await client.get("/spoke/bookings", params=query)
        page = await response.text()
        assert response.status == 422, field
        assert words in page, (field, page[page.find("error-summary") :][:600])
        assert booking_links(page) == [], field
        assert f'href="#f-{field}"' in page, field
