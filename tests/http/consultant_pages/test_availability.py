"""The availability page: saving replaces weekly hours and time off, a bad range is shown
at its field keeping what was typed, saving unchanged keeps what only the API can set."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import store as scheduling_store
from tests.http.consultant_pages.support import Hub, post, submitted_by_browser, value_of


async def test_saving_availability_replaces_the_weekly_hours_and_time_off(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    form = await (await client.get("/hub/availability")).text()
    assert value_of(form, "f-hours-monday-0-start") == "09:00"
    assert value_of(form, "f-hours-monday-1-start") == "21:00"
    assert "America/Los Angeles" in form

    response = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "hours.tuesday.1.start": "13:00",
            "hours.tuesday.1.end": "17:30",
            "hours.friday.0.start": "10:00",
            "hours.friday.0.end": "",
            "hours.friday.0.services": "",
            "exceptions.0.kind": "time_off",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.note": "Conference",
        },
        "/hub/availability",
    )
    assert response.status == 422  # Friday has a start and no end
    rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time) for r in rules] == [(0, time(9)), (0, time(21))]

    response = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "hours.tuesday.1.start": "13:00",
            "hours.tuesday.1.end": "17:30",
            "exceptions.0.kind": "time_off",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.note": "Conference",
            "exceptions.1.kind": "time_off",
        },
        "/hub/availability",
    )
    assert response.status == 303
    rules, exceptions = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time, r.end_time) for r in rules] == [
        (1, time(8), time(12)),
        (1, time(13), time(17, 30)),
    ]
    assert [(e.kind, e.start, e.end, e.note) for e in exceptions] == [
        (
            "time_off",
            datetime(2027, 3, 8, 8, tzinfo=UTC),  # midnight in Los Angeles (PST)
            datetime(2027, 3, 13, 8, tzinfo=UTC),
            "Conference",
        )
    ]
    page = await (await client.get("/hub/availability")).text()
    assert "Your availability is saved" in page
    assert value_of(page, "f-exceptions-0-start") == "2027-03-08T00:00"

    removed = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.remove": "yes",
        },
        "/hub/availability",
    )
    assert removed.status == 303
    rules, exceptions = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert len(rules) == 1 and exceptions == []


async def test_a_bad_range_is_shown_next_to_its_field_and_keeps_what_was_typed(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    response = await post(
        client,
        "/hub/availability",
        {
            "hours.monday.0.start": "09:00",
            "hours.monday.0.end": "12:00",
            "hours.wednesday.1.start": "14:00",
            "hours.wednesday.1.end": "09:00",
            "exceptions.0.start": "2027-03-20T09:00",
            "exceptions.0.end": "soon",
        },
        "/hub/availability",
    )

    assert response.status == 422
    html = await response.text()
    assert '<p class="error" id="f-hours-wednesday-1-end-error">must be after start</p>' in html
    assert value_of(html, "f-hours-wednesday-1-start") == "14:00"
    assert value_of(html, "f-hours-wednesday-1-end") == "09:00"
    assert 'href="#f-hours-wednesday-1-end"' in html  # the summary links to the field
    assert 'id="f-exceptions-0-end-error">enter a date and a time' in html
    assert value_of(html, "f-exceptions-0-end") == "soon"
    assert value_of(html, "f-hours-monday-0-start") == "09:00"
    rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time) for r in rules] == [(0, time(9)), (0, time(21))]


async def test_saving_the_hours_unchanged_keeps_what_only_the_api_can_set(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    rules = [
        scheduling_store.RuleRow(0, time(9), time(12), (hub.video.id,), None, None),
        scheduling_store.RuleRow(3, time(13), time(0), None, None, date(2027, 6, 30)),
    ]
    exceptions = [
        scheduling_store.ExceptionRow(
            "extra_hours",
            datetime(2027, 3, 6, 17, tzinfo=UTC),
            datetime(2027, 3, 6, 20, tzinfo=UTC),
            (hub.econsult_service.id,),
            "Saturday clinic",
        )
    ]
    await scheduling_store.replace_availability(conn, hub.consultant.id, rules, exceptions)
    html = await (await client.get("/hub/availability")).text()
    assert f"Only for {hub.video.name}" in html and "Until 2027-06-30" in html

    response = await client.post(
        "/hub/availability", data=submitted_by_browser(html), allow_redirects=False
    )

    assert response.status == 303
    assert await scheduling_store.get_availability(conn, hub.consultant.id) == (
        rules,
        exceptions,
    )
