"""The coordinator's group pages: create a group on the form (its first start read in the
counselor's time zone), see its sessions with seats taken, cancel from a session on once
confirmed; a form with mistakes says what to fix and makes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from tests.factories import Network
from tests.http.coordinator_support import coordinator, post_form, tables


async def _counselor(network: Network) -> tuple[Service, Consultant]:
    service = await network.service(
        kind="group_session", name="Group counseling", roles=["telehealth_counselor"]
    )
    counselor = await network.consultant(
        [service], role="telehealth_counselor", timezone="America/Los_Angeles"
    )
    return service, counselor


def _form(service: Service, counselor: Consultant, **changes: str) -> dict[str, str]:
    return {
        "title": "MOUD support group · Tuesdays 18:00",
        "service_id": str(service.id),
        "consultant_id": str(counselor.id),
        "capacity": "10",
        "first_date": "2027-03-09",
        "first_time": "18:00",
        "repeat": "weekly",
        "count": "4",
        **changes,
    }


async def test_a_group_created_on_the_page_keeps_the_counselors_wall_clock(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    service, counselor = await _counselor(network)
    await coordinator(client, network)

    response = await post_form(client, "/coordinator/groups", _form(service, counselor))

    assert response.status == 303, await response.text()
    group_id = response.headers["Location"].rsplit("/", 1)[1]
    starts = [
        r["start"]
        for r in await conn.fetch(
            "SELECT lower(period) AS start FROM group_occurrences WHERE group_id = $1::uuid "
            "ORDER BY position",
            group_id,
        )
    ]
    # 18:00 in Los Angeles before and after the clocks change (14 March 2027).
    assert starts[0] == datetime(2027, 3, 10, 2, tzinfo=UTC)
    assert starts[1] == datetime(2027, 3, 17, 1, tzinfo=UTC)
    assert len(starts) == 4
    page = await client.get(response.headers["Location"])
    html = await page.text()
    assert "Created MOUD support group · Tuesdays 18:00: 4 sessions from" in html
    rows = tables(html)["sessions"][1:]
    assert [r[2] for r in rows] == ["0 of 10"] * 4
    assert rows[0][1].endswith("18:00") and rows[1][1].endswith("18:00")
    listed = tables(await (await client.get("/coordinator/groups")).text())["groups"]
    assert listed[1][0] == "MOUD support group · Tuesdays 18:00"
    assert listed[1][3:] == ["0 of 10", "4 of 4"]
    assert ">Groups</a>" in html  # the coordinator's menu


async def test_a_form_with_mistakes_says_what_to_fix_and_makes_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    service, counselor = await _counselor(network)
    await coordinator(client, network)

    response = await post_form(
        client,
        "/coordinator/groups",
        _form(service, counselor, title="", first_time="", capacity="40"),
    )

    assert response.status == 422
    html = await response.text()
    assert "Title clinics see" in html and "Seats" in html
    assert "Give the date and time of the first session." in html
    assert 'value="2027-03-09"' in html  # what was typed is kept
    assert await conn.fetchval("SELECT count(*) FROM groups") == 0


async def test_a_group_over_the_counselors_held_time_is_refused(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    service, counselor = await _counselor(network)
    await coordinator(client, network)
    assert (await post_form(client, "/coordinator/groups", _form(service, counselor))).status == 303

    again = await post_form(
        client, "/coordinator/groups", _form(service, counselor, title="Second group")
    )

    assert again.status == 409
    assert "Occurrences 1, 2, 3, 4 land on time the counselor already holds" in await again.text()
    assert await conn.fetchval("SELECT count(*) FROM groups") == 1


async def test_cancelling_from_a_session_on_needs_the_confirmation(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    service, counselor = await _counselor(network)
    await coordinator(client, network)
    made = await post_form(client, "/coordinator/groups", _form(service, counselor))
    page = made.headers["Location"]
    cancel = {"from": "3", "reason": "The counselor is away."}

    unconfirmed = await post_form(client, f"{page}/cancel", cancel, page)

    assert unconfirmed.status == 422
    assert "Confirm the cancellation: nothing was cancelled." in await unconfirmed.text()
    statuses = "SELECT status FROM group_occurrences WHERE group_id = $1::uuid ORDER BY position"
    group_id = page.rsplit("/", 1)[1]
    assert [r["status"] for r in await conn.fetch(statuses, group_id)] == ["scheduled"] * 4

    confirmed = await post_form(client, f"{page}/cancel", {**cancel, "confirmed": "yes"}, page)

    assert confirmed.status == 303
    assert [r["status"] for r in await conn.fetch(statuses, group_id)] == [
        "scheduled",
        "scheduled",
        "cancelled",
        "cancelled",
    ]
    rows = tables(await (await client.get(page)).text())["sessions"][1:]
    assert rows[2][3] == "Cancelled: The counselor is away."
