"""The feed page (a URL that serves a calendar; rotating stops the old one) and who may
open the consultant's pages and records."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from scheduling import store as scheduling_store
from tests.factories import Clock, Network, sign_in
from tests.http.consultant_pages.support import NOTE, Hub, ask, book, post, value_of


async def test_the_feed_page_issues_a_url_that_serves_a_calendar_and_rotating_stops_the_old(
    client: TestClient, hub: Hub
) -> None:
    await book(client, hub, "2027-03-01T17:00:00Z")
    assert "Create feed URL" in await (await client.get("/hub/feed")).text()

    assert (await post(client, "/hub/feed", {}, "/hub/feed")).status == 303
    first_url = value_of(await (await client.get("/hub/feed")).text(), "feed-url")
    calendar = await client.get(urlsplit(first_url).path)
    assert calendar.status == 200 and calendar.content_type == "text/calendar"
    assert "BEGIN:VCALENDAR" in await calendar.text()
    assert "Okafor" not in await calendar.text()
    page = await (await client.get("/hub/feed")).text()
    assert "Rotate URL" in page and first_url in page  # shown again

    yes = {"confirmed": "yes"}
    assert (await post(client, "/hub/feed", yes, "/hub/feed")).status == 303
    second_url = value_of(await (await client.get("/hub/feed")).text(), "feed-url")
    assert second_url != first_url
    assert (await client.get(urlsplit(first_url).path)).status == 404
    assert (await client.get(urlsplit(second_url).path)).status == 200

    revoked = await post(client, "/hub/feed/revoke", yes, "/hub/feed")
    assert revoked.status == 303
    assert (await client.get(urlsplit(second_url).path)).status == 404
    assert "Create feed URL" in await (await client.get("/hub/feed")).text()


async def test_another_consultants_econsult_or_booking_answers_404(
    client: TestClient, network: Network, hub: Hub, clock: Clock, conn: asyncpg.Connection
) -> None:
    their_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=8, roles=["psychiatric_consultant"]
    )
    other = await network.consultant(
        [their_service, hub.video], hours=((1, time(9), time(12)),), timezone="America/Chicago"
    )
    theirs = await ask(client, hub, service=their_service)
    their_booking = await book(client, hub, "2027-03-02T15:00:00Z", consultant_id=other.id)
    drafted = await client.post(
        f"/api/v1/econsults/{theirs}/notes",
        json={"sections": {"assessment": "Theirs"}},
        headers=network.consultant_headers(other.id),
    )
    their_note = (await drafted.json())["id"]
    clock.now = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)

    responses = [
        await client.get(f"/hub/econsults/{theirs}"),
        await client.get(f"/hub/bookings/{their_booking}/note"),
        await client.get(f"/hub/econsults/{uuid.uuid4()}"),
        await post(client, f"/hub/econsults/{theirs}/note", NOTE, "/hub"),
        await post(client, f"/hub/econsults/{theirs}/messages", {"body": "Hello"}, "/hub"),
        await post(client, f"/hub/notes/{their_note}/sign", NOTE, "/hub"),
        await post(client, f"/hub/bookings/{their_booking}/note", NOTE, "/hub"),
        await post(
            client, f"/hub/bookings/{their_booking}/outcome", {"outcome": "no_show"}, "/hub"
        ),
    ]

    assert [r.status for r in responses] == [404] * len(responses)
    note = await conn.fetchrow("SELECT sections, signed_at FROM consult_notes")
    assert note["sections"]["assessment"] == "Theirs" and note["signed_at"] is None
    assert await conn.fetchval("SELECT count(*) FROM econsult_messages") == 0
    assert await conn.fetchval("SELECT status FROM bookings") == "booked"
    assert theirs not in await (await client.get("/hub/worklist")).text()


@pytest.mark.parametrize("role", ["spoke_scheduler", "spoke_clinician", "hub_coordinator"])
async def test_clinic_users_and_coordinators_cannot_open_consultant_pages(
    client: TestClient, network: Network, hub: Hub, role: str
) -> None:
    client.session.cookie_jar.clear()
    spoke_id = hub.spoke.id if role.startswith("spoke") else None
    email, password = await network.user(role, spoke_id=spoke_id)
    assert (await sign_in(client, email, password)).status == 303
    econsult_id = await ask(client, hub)

    paths = ["/hub", "/hub/availability", "/hub/worklist", "/hub/feed"]
    statuses = [(await client.get(p)).status for p in paths]
    statuses.append((await client.get(f"/hub/econsults/{econsult_id}")).status)

    assert statuses == [403] * 5
    refused = await client.get("/hub/worklist")
    assert "not part of your role" in await refused.text()


async def test_a_form_post_without_its_csrf_token_is_refused(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    hours: dict[str, Any] = {"hours.sunday.0.start": "09:00", "hours.sunday.0.end": "10:00"}
    responses = [
        await client.post("/hub/availability", data=hours, allow_redirects=False),
        await client.post("/hub/feed", data={}, allow_redirects=False),
        await client.post("/hub/feed", data={"csrf_token": "guess"}, allow_redirects=False),
    ]

    assert [r.status for r in responses] == [403, 403, 403]
    assert await conn.fetchval("SELECT count(*) FROM feed_tokens") == 0
    rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert all(r.weekday == 0 for r in rules)
