"""Book a series from the clinic's pages: the form filled from the link, every session shown
with its date before anything is booked, the sessions not open with times to pick instead,
one confirmation that books them all, and nothing booked on a refused post."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import asyncpg
from aiohttp.test_utils import TestClient

from tests.http.series_pages.support import (
    alternatives,
    confirmation,
    plan,
    series_form,
    sessions,
)
from tests.http.spoke_support import Clinic, book_via_api, field_html, post


async def test_the_form_is_filled_from_the_link(client: TestClient, clinic: Clinic) -> None:
    c = clinic
    response = await client.get(
        "/spoke/series/new",
        params={
            "patient_id": str(c.patient.id),
            "service_id": str(c.video.id),
            "consultant_id": str(c.consultant.id),
            "start": "2027-03-08T17:00:00Z",
        },
    )

    html = await response.text()
    assert response.status == 200 and "<h1>Book a series</h1>" in html
    assert f"Quimby, {c.patient.given_name}" in html
    assert 'value="2027-03-08T12:00"' in field_html(html, "f-first_start")  # New York time
    assert f'<option value="{c.video.id}" selected>' in html
    assert 'value="weekly" checked' in html
    assert str(c.patient.id) not in re.sub(r"<[^>]*>", "", html)  # no ids shown to people


async def test_a_link_without_a_patient_finds_them_by_mrn_first(
    client: TestClient, clinic: Clinic
) -> None:
    c = clinic
    html = await (
        await client.get(
            "/spoke/series/new", params={"service_id": str(c.video.id), "mrn": c.patient.mrn}
        )
    ).text()

    assert "Find the patient by MRN" in html and 'action="/spoke/series/plan"' not in html
    assert f"/spoke/series/new?service_id={c.video.id}&amp;patient_id={c.patient.id}" in html


async def test_the_plan_shows_every_session_with_its_date_and_books_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    response = await plan(client, clinic)

    html = await response.text()
    assert response.status == 200
    assert "4 sessions of Video visit with" in html and "Every session is open." in html
    for n, day in enumerate(("8", "15", "22", "29"), start=1):
        assert f"Session {n}: Mon {day} Mar 2027, 12:00" in html  # across 14 March, still 12:00
    assert "Book all 4 sessions" in html
    assert confirmation(html)["first_start"] == "2027-03-08T12:00"
    assert await sessions(conn) == []


async def test_a_session_not_open_says_why_and_a_chosen_time_books_them_all(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    c = clinic
    await book_via_api(client, c, "2027-03-22T16:00:00Z")  # 22 March, 12:00 in New York
    html = await (await plan(client, c)).text()

    assert "1 session is not open: choose another time for it." in html
    assert "Session 3: Mon 22 Mar 2027, 12:00 is not open" in html
    assert "Another booking already holds this time." in html
    offered = alternatives(html, 3)
    assert "2027-03-22T17:00:00Z" in offered and "2027-03-22T16:00:00Z" not in offered
    assert alternatives(html, 2) == []

    chosen = {**confirmation(html), "override.3": "2027-03-22T17:00:00Z"}
    response = await post(client, "/spoke/series", chosen, c.csrf)

    assert response.status == 303
    booked = await sessions(conn)
    assert response.headers["Location"] == f"/spoke/series/{booked[0]['series_id']}"
    assert [s["start"] for s in booked] == [
        datetime(2027, 3, 8, 17, tzinfo=UTC),
        datetime(2027, 3, 15, 16, tzinfo=UTC),
        datetime(2027, 3, 22, 17, tzinfo=UTC),
        datetime(2027, 3, 29, 16, tzinfo=UTC),
    ]
    landed = await (await client.get(response.headers["Location"])).text()
    assert "Booked 4 sessions, the first on Mon 8 Mar 2027, 12:00." in landed


async def test_a_refused_post_books_nothing_and_says_what_to_fix(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    c = clinic
    await book_via_api(client, c, "2027-03-22T16:00:00Z")
    html = await (await plan(client, c)).text()

    unchosen = await post(client, "/spoke/series", confirmation(html), c.csrf)
    too_long = await post(client, "/spoke/series", series_form(c, count="30"), c.csrf)
    daily = await post(client, "/spoke/series", series_form(c, repeat="daily"), c.csrf)
    both = await plan(client, c, until="2027-04-30")
    closed = await plan(client, c, first_start="2027-03-08T09:00")  # 06:00 in Los Angeles
    elsewhere = await post(
        client,
        "/spoke/series",
        {**confirmation(html), "override.9": "2027-05-03T16:00:00Z"},
        c.csrf,
    )

    assert unchosen.status == 409
    refused = await unchosen.text()
    assert "Some sessions are not open now, so nothing was booked." in refused
    assert alternatives(refused, 3)  # asked again, with the times to choose from
    assert (too_long.status, daily.status, both.status, closed.status) == (422, 422, 422, 422)
    assert 'href="#f-count">Number of sessions: must be 26 or less' in await too_long.text()
    assert 'href="#f-repeat">Repeat:' in await daily.text()
    assert "the number of sessions or a last date, not both" in await both.text()
    assert 'href="#f-first_start">First session: It is outside' in await closed.text()
    assert elsewhere.status == 422 and "the series has only 4 sessions" in await elsewhere.text()
    assert await sessions(conn) == []
    assert await conn.fetchval("SELECT count(*) FROM series") == 0


async def test_each_open_time_on_the_find_page_starts_a_series_from_it(
    client: TestClient, clinic: Clinic
) -> None:
    c = clinic
    grid = unescape(await (await client.get("/spoke/find", params={"week": "2027-03-08"})).text())

    link = re.search(r'<a class="series-link" href="(/spoke/series/new\?[^"]+)">', grid)
    assert link is not None and "Book a series" in grid
    form = await (await client.get(link.group(1) + f"&mrn={c.patient.mrn}")).text()
    assert "Find the patient by MRN" in form and f"Quimby, {c.patient.given_name}" in form
    chosen = re.search(r'href="(/spoke/series/new\?[^"]*patient_id=[^"]+)"', unescape(form))
    assert chosen is not None
    filled = await (await client.get(chosen.group(1))).text()
    assert 'value="2027-03-08T12:00"' in field_html(filled, "f-first_start")
    assert f'<option value="{c.consultant.id}" selected>' in filled


async def test_any_consultant_of_a_role_is_resolved_to_one_before_booking(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    c = clinic
    html = await (await plan(client, c, consultant_id="", role="psychiatric_consultant")).text()

    assert f"4 sessions of Video visit with {c.consultant.name}" in html
    confirm = confirmation(html)
    assert confirm["consultant_id"] == str(c.consultant.id) and "role" not in confirm
    assert (await post(client, "/spoke/series", confirm, c.csrf)).status == 303
    assert len(await sessions(conn)) == 4


async def test_a_first_session_not_open_offers_open_times_near_it(
    client: TestClient, clinic: Clinic
) -> None:
    c = clinic
    refused = await plan(client, c, first_start="2027-03-08T09:00")  # 06:00 in Los Angeles

    html = unescape(await refused.text())
    assert refused.status == 422 and "Open times near the first session" in html
    links = re.findall(r'href="(/spoke/series/new\?[^"]*start=2027-03-08T17:00:00Z[^"]*)"', html)
    assert links and "count=4" in links[0] and "reason" not in links[0]
    form = await (await client.get(links[0])).text()
    assert 'value="2027-03-08T12:00"' in field_html(form, "f-first_start")
    assert 'value="4"' in field_html(form, "f-count")


async def test_a_first_session_another_booking_holds_restarts_the_series_elsewhere(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    c = clinic
    await book_via_api(client, c, "2027-03-08T17:00:00Z")  # the first session's time

    html = unescape(await (await plan(client, c)).text())

    assert "Session 1: Mon 8 Mar 2027, 12:00 is not open" in html
    assert "every session moves with it" in html and 'name="override.1"' not in html
    assert "Book all" not in html and "cannot be booked as it stands" in html
    restart = re.search(r'href="(/spoke/series/new\?[^"]*start=[^"]+)"', html)
    assert restart is not None
    form = await (await client.get(restart.group(1))).text()
    assert 'value="2027-03-08T12:00"' not in field_html(form, "f-first_start")
    assert await sessions(conn) == []
