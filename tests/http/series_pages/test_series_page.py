"""A series' page: its sessions by position with their status, and "cancel this and all
later", which asks once (the confirm macro) and keeps the earlier sessions."""

from __future__ import annotations

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in
from tests.http.series_pages.support import confirmation, plan, sessions
from tests.http.spoke_support import Clinic, post


async def _booked(client: TestClient, c: Clinic) -> str:
    html = await (await plan(client, c)).text()
    response = await post(client, "/spoke/series", confirmation(html), c.csrf)
    assert response.status == 303
    return response.headers["Location"]


async def test_the_page_lists_every_session_with_its_status(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page = await _booked(client, clinic)

    html = await (await client.get(page)).text()

    assert "<h1>Video visit: a series of 4</h1>" in html
    assert f"For Quimby, {clinic.patient.given_name}" in html and "every week" in html
    for row in await sessions(conn):
        n = row["position"]
        assert f'id="session-{n}"' in html
        assert f"Session {n}: Mon " in html
    assert html.count('class="tag booked"') == 4
    assert f'href="{page}?cancel_from=3#h-cancel"' in html
    assert f'href="/spoke/patients/{clinic.patient.id}"' in html  # back to the patient


async def test_cancel_this_and_all_later_asks_then_keeps_the_earlier_sessions(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page = await _booked(client, clinic)
    action = f"{page}/cancel"

    asked = await post(client, action, {"from": "3", "reason": "Moving away"}, clinic.csrf)
    unchanged = [s["status"] for s in await sessions(conn)]
    question = await asked.text()
    confirmed = await post(
        client,
        f"{action}?from=3",
        {"reason": "Moving away", "confirmed": "yes"},
        clinic.csrf,
    )

    assert asked.status == 200 and unchanged == ["booked"] * 4
    assert "This cancels 2 sessions of" in question and "Earlier sessions stay booked." in question
    assert f'action="{action}?from=3"' in question
    assert confirmed.status == 303 and confirmed.headers["Location"] == page
    assert [s["status"] for s in await sessions(conn)] == ["booked"] * 2 + ["cancelled"] * 2
    after = await (await client.get(page)).text()
    assert "Cancelled session 3 and every later one still booked." in after
    assert 'class="tag cancelled"' in after


async def test_a_cancel_without_a_reason_or_session_changes_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page = await _booked(client, clinic)

    no_reason = await post(client, f"{page}/cancel", {"from": "2", "confirmed": "yes"}, clinic.csrf)
    no_session = await post(
        client, f"{page}/cancel", {"reason": "x", "confirmed": "yes"}, clinic.csrf
    )
    too_far = await post(
        client, f"{page}/cancel", {"from": "9", "reason": "x", "confirmed": "yes"}, clinic.csrf
    )

    assert (no_reason.status, no_session.status, too_far.status) == (422, 422, 422)
    assert "Say why the sessions are cancelled" in await no_reason.text()
    assert 'href="#f-from">From session:' in await no_session.text()
    assert "the series has only 4 sessions" in await too_far.text()
    assert [s["status"] for s in await sessions(conn)] == ["booked"] * 4


async def test_another_clinics_series_is_not_found(
    client: TestClient, clinic: Clinic, network: Network, conn: asyncpg.Connection
) -> None:
    page = await _booked(client, clinic)
    other = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=other.id)
    assert (await sign_in(client, email, password)).status == 303
    csrf = await page_csrf(client, "/spoke")

    shown = await client.get(page)
    cancelled = await post(
        client, f"{page}/cancel?from=1", {"reason": "x", "confirmed": "yes"}, csrf
    )

    assert (shown.status, cancelled.status) == (404, 404)
    assert [s["status"] for s in await sessions(conn)] == ["booked"] * 4
