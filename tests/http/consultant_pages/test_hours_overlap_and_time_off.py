"""Hours: overlapping ranges refused (API and page); my week shows time off, in one table."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import store as scheduling_store
from scheduling.store import ExceptionRow
from tests.factories import Network
from tests.http.consultant_pages.support import Hub, between, post

DASH = "\N{EN DASH}"
OVERLAP = "Monday 11:00 to 14:00 overlaps Monday 09:00 to 12:00: ranges on one day must not overlap"


async def test_the_api_refuses_overlapping_ranges_naming_the_field(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    video = await network.service()
    consultant = await network.consultant([video])
    rules = [
        {"weekday": "monday", "start": "09:00", "end": "12:00"},
        {"weekday": "monday", "start": "11:00", "end": "14:00"},
    ]

    response = await client.put(
        f"/api/v1/consultants/{consultant.id}/availability",
        json={"rules": rules},
        headers=network.consultant_headers(consultant.id),
    )

    assert response.status == 422
    problem = await response.json()
    assert problem["errors"] == [{"field": "rules.1.start", "detail": OVERLAP}]
    stored, _ = await scheduling_store.get_availability(conn, consultant.id)
    assert len(stored) == 1  # the factory's Monday 09:00-12:00, unchanged


async def test_the_hours_page_says_which_day_and_ranges_overlap_and_saves_nothing(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    typed = {
        "hours.monday.0.start": "09:00",
        "hours.monday.0.end": "12:00",
        "hours.monday.1.start": "11:00",
        "hours.monday.1.end": "14:00",
    }

    response = await post(client, "/hub/availability", typed, "/hub/availability")

    assert response.status == 422
    html = await response.text()
    assert f'<p class="error" id="f-hours-monday-1-start-error">{OVERLAP}</p>' in html
    assert f'href="#f-hours-monday-1-start">Monday, time range 2, from: {OVERLAP}' in html
    assert 'id="f-hours-monday-1-end" name="hours.monday.1.end" type="time" value="14:00"' in html
    stored, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.start_time.hour, r.end_time.hour) for r in stored] == [(9, 12), (21, 23)]


async def test_my_week_shows_time_off_and_extra_hours_on_their_days(
    client: TestClient, network: Network, hub: Hub
) -> None:
    async with network.pool.acquire() as conn:
        rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
        await scheduling_store.replace_availability(
            conn,
            hub.consultant.id,
            rules,
            [  # Los Angeles is UTC-8 in early March
                ExceptionRow(
                    "time_off",
                    datetime(2027, 3, 2, 21, tzinfo=UTC),  # Tuesday 13:00
                    datetime(2027, 3, 4, 1, tzinfo=UTC),  # Wednesday 17:00
                    None,
                    "Conference",
                ),
                ExceptionRow(
                    "extra_hours",
                    datetime(2027, 3, 6, 17, tzinfo=UTC),  # Saturday 09:00
                    datetime(2027, 3, 6, 19, tzinfo=UTC),
                    None,
                    "",
                ),
            ],
        )

    html = await (await client.get("/hub")).text()

    tuesday = between(html, 'id="d-2027-03-02"', 'id="d-2027-03-03"')
    wednesday = between(html, 'id="d-2027-03-03"', 'id="d-2027-03-04"')
    saturday = between(html, 'id="d-2027-03-06"', 'id="d-2027-03-07"')
    assert f"13:00{DASH}24:00" in tuesday and "Time off</span> Conference" in tuesday
    assert f"00:00{DASH}17:00" in wednesday and "Time off" in wednesday
    assert f"09:00{DASH}11:00" in saturday and "Extra hours</span>" in saturday
    assert "Time off" not in html.split('id="d-2027-03-02"', 1)[0]  # not on Monday


async def test_my_week_is_one_table_so_its_columns_line_up(client: TestClient, hub: Hub) -> None:
    html = await (await client.get("/hub")).text()

    assert html.count("<table") == 1
    assert len(re.findall(r'<tr class="day-head"><th scope="rowgroup" colspan="5"', html)) == 7
