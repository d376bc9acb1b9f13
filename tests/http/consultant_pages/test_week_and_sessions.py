"""The consultant's week: every page renders, sessions by day in the consultant's zone,
outcomes of sessions that have begun, session notes written from the week."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock
from tests.http.consultant_pages.support import NOTE, Hub, ask, between, book, post


async def test_every_consultant_page_renders_for_the_consultant(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    booking_id = await book(client, hub, "2027-03-01T17:00:00Z")
    pages = {
        "/hub": "My week",
        "/hub/availability": "Availability",
        "/hub/worklist": "E-consult worklist",
        "/hub/feed": "Calendar feed",
        f"/hub/econsults/{econsult_id}": "E-consult: Okafor",
        f"/hub/bookings/{booking_id}/note": "Session note: Okafor",
    }
    for path, heading in pages.items():
        response = await client.get(path, allow_redirects=False)
        assert response.status == 200, path
        html = await response.text()
        assert f"<h1>{heading}" in html, path
        assert response.headers["Cache-Control"] == "no-store"
    week = await (await client.get("/hub")).text()
    assert '<a href="/hub" aria-current="page">My week</a>' in week
    audited = await conn.fetch(
        "SELECT DISTINCT record_type FROM audit_log WHERE action = 'read' AND actor LIKE 'user:%'"
    )
    assert {r["record_type"] for r in audited} >= {"econsult", "booking"}


async def test_my_week_shows_sessions_by_day_in_the_consultants_time_zone(
    client: TestClient, hub: Hub
) -> None:
    morning = await book(client, hub, "2027-03-01T17:00:00Z")  # Monday 09:00 in Los Angeles
    evening = await book(client, hub, "2027-03-02T05:00:00Z")  # Tuesday in UTC, Monday 21:00

    html = await (await client.get("/hub")).text()

    assert "America/Los Angeles (PST, UTC-08:00)" in html
    monday = between(html, 'id="d-2027-03-01"', 'id="d-2027-03-02"')
    tuesday = between(html, 'id="d-2027-03-02"', 'id="d-2027-03-03"')
    assert "09:00\N{EN DASH}10:00" in monday and "21:00\N{EN DASH}22:00" in monday
    assert f'id="b-{morning}"' in monday and f'id="b-{evening}"' in monday
    assert "Nothing booked." in tuesday
    assert f"Okafor, {hub.patient.given_name}" in monday and hub.patient.mrn in monday
    assert hub.spoke.name in monday and 'class="tag booked"' in monday
    assert "https://video.telehub.example/room/" in monday
    assert f'href="/hub/bookings/{morning}/note"' in monday
    assert 'href="/hub?week=2027-02-22"' in html and 'href="/hub?week=2027-03-08"' in html

    following = await (await client.get("/hub", params={"week": "2027-03-10"})).text()
    assert "Monday 8 March to Sunday 14 March 2027" in following
    assert f'id="b-{morning}"' not in following
    bad = await client.get("/hub", params={"week": "next tuesday"})
    assert bad.status == 422


async def test_a_session_that_has_begun_is_recorded_as_completed_or_no_show(
    client: TestClient, hub: Hub, clock: Clock, conn: asyncpg.Connection
) -> None:
    done = await book(client, hub, "2027-03-01T17:00:00Z")
    missed = await book(client, hub, "2027-03-01T19:00:00Z")
    later = await book(client, hub, "2027-03-02T05:00:00Z")
    before = await (await client.get("/hub")).text()
    assert f'action="/hub/bookings/{done}/outcome"' not in before  # not begun yet

    clock.now = datetime(2027, 3, 1, 19, 30, tzinfo=UTC)
    html = await (await client.get("/hub")).text()
    assert f'action="/hub/bookings/{done}/outcome"' in html
    assert f'action="/hub/bookings/{missed}/outcome"' in html
    assert f'action="/hub/bookings/{later}/outcome"' not in html
    too_early = await post(
        client, f"/hub/bookings/{later}/outcome", {"outcome": "completed"}, "/hub"
    )
    completed = await post(
        client, f"/hub/bookings/{done}/outcome", {"outcome": "completed"}, "/hub"
    )
    no_show = await post(client, f"/hub/bookings/{missed}/outcome", {"outcome": "no_show"}, "/hub")

    assert (completed.status, no_show.status, too_early.status) == (303, 303, 409)
    assert completed.headers["Location"].startswith("/hub?week=2027-03-01")
    statuses = dict(await conn.fetch("SELECT id::text, status FROM bookings"))
    assert statuses == {done: "completed", missed: "no_show", later: "booked"}
    after = await (await client.get("/hub")).text()
    assert "The session of Mon 1 Mar 2027, 11:00 is recorded as no-show." in after
    assert 'class="tag no_show">no-show<' in after
    assert f'action="/hub/bookings/{done}/outcome"' not in after


async def test_a_session_note_is_written_and_signed_from_the_week(
    client: TestClient, hub: Hub, clock: Clock, conn: asyncpg.Connection
) -> None:
    booking_id = await book(client, hub, "2027-03-01T17:00:00Z")
    clock.now = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
    page = f"/hub/bookings/{booking_id}/note"
    assert f'href="{page}"' in await (await client.get("/hub")).text()

    response = await post(client, page, {**NOTE, "action": "sign"}, page)

    assert response.status == 303 and response.headers["Location"] == f"{page}#note"
    note = await conn.fetchrow(
        "SELECT version, signed_at, sections FROM consult_notes WHERE booking_id = $1",
        uuid.UUID(booking_id),
    )
    assert note["version"] == 1 and note["signed_at"] == clock.now
    assert note["sections"]["visit_recommended"] is True
    assert await conn.fetchval("SELECT event_type FROM outbox") == "note.signed"
    html = await (await client.get(page)).text()
    assert "Note version 1 is signed" in html and "Write an amendment" in html
    assert "Sertraline 50 mg daily after induction." in html
