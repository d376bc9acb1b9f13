"""The clinic's waitlist pages: the find page links to joining with its filters, joining reads
the API's model (a mistake is shown at its field, nothing added), leaving asks first, another
clinic's request cannot be left, and a time that opened shows on the dashboard with a link to
book it (nothing booked)."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Bookable, Clock, Network, bookable, booking, page_csrf, sign_in


@pytest.fixture
async def setting(network: Network) -> Bookable:
    """A video service, a consultant free Mondays 9-12 in Los Angeles, a clinic and its patient."""
    return await bookable(network, name="Psychiatry follow-up")


async def signed_in_clinic(client: TestClient, network: Network, s: Bookable) -> None:
    email, password = await network.user("spoke_scheduler", spoke_id=s.spoke.id)
    response = await sign_in(client, email, password)
    assert response.status in (200, 303)


async def join(client: TestClient, s: Bookable, **fields: str) -> tuple[int, str]:
    csrf = await page_csrf(client, "/spoke/waitlist")
    data = {
        "csrf_token": csrf,
        "service_id": str(s.service.id),
        "patient_state": "VT",
        "latest_date": "2027-03-10",
        **fields,
    }
    response = await client.post("/spoke/waitlist", data=data)
    return response.status, await response.text()


async def test_the_find_page_links_to_the_waitlist_with_its_filters(
    client: TestClient, network: Network, setting: Bookable
) -> None:
    await signed_in_clinic(client, network, setting)
    found = await client.get("/spoke/find", params={"service_id": str(setting.service.id)})
    text = await found.text()
    assert "No time soon enough? Tell me when an earlier one opens" in text
    link = html.unescape(re.search(r'href="([^"]*waitlist[^"]*)"', text).group(1))  # type: ignore[union-attr]
    page = await (await client.get(link)).text()
    assert f'<option value="{setting.service.id}" selected>' in page


async def test_join_shows_the_request_and_leave_asks_first(
    client: TestClient, network: Network, setting: Bookable, conn: asyncpg.Connection
) -> None:
    await signed_in_clinic(client, network, setting)
    status, text = await join(client, setting, consultant_id=str(setting.consultant.id))
    assert status == 200
    assert "On the waitlist." in text
    assert "Psychiatry follow-up" in text and setting.consultant.name in text
    request_id = await conn.fetchval("SELECT id FROM slot_waitlist")
    assert str(request_id) not in re.sub(r'(action|href)="[^"]*"', "", text)  # no ids shown

    csrf = await page_csrf(client, "/spoke/waitlist")
    asked = await client.post(f"/spoke/waitlist/{request_id}/leave", data={"csrf_token": csrf})
    assert asked.status == 200
    assert '<details class="confirm" open>' in await asked.text()
    assert await conn.fetchval("SELECT status FROM slot_waitlist") == "waiting"

    left = await client.post(
        f"/spoke/waitlist/{request_id}/leave", data={"csrf_token": csrf, "confirmed": "yes"}
    )
    assert "Off the waitlist." in await left.text()
    assert await conn.fetchval("SELECT status FROM slot_waitlist") == "left"


@pytest.mark.parametrize(
    ("fields", "shown"),
    [
        ({"latest_date": "2027-02-01"}, "Latest date that will do: is in the past"),
        ({"service_id": "999999"}, "Service: no active service with this id"),
        ({"role": "telehealth_counselor"}, "Consultant: give consultant_id or role"),
    ],
)
async def test_a_mistake_is_shown_at_its_field_and_nothing_is_added(
    client: TestClient,
    network: Network,
    setting: Bookable,
    conn: asyncpg.Connection,
    fields: dict[str, str],
    shown: str,
) -> None:
    await signed_in_clinic(client, network, setting)
    if "role" in fields:
        fields = {**fields, "consultant_id": str(setting.consultant.id)}
    status, text = await join(client, setting, **fields)
    assert status == 422
    assert shown in html.unescape(text)
    assert await conn.fetchval("SELECT count(*) FROM slot_waitlist") == 0


async def test_another_clinic_cannot_leave_a_request(
    client: TestClient, network: Network, setting: Bookable, conn: asyncpg.Connection
) -> None:
    response = await client.post(
        "/api/v1/waitlist",
        json={"service_id": setting.service.id, "patient_state": "VT", "latest_date": "2027-03-10"},
        headers=setting.spoke.headers,
    )
    request_id = (await response.json())["id"]
    other = await bookable(network)
    await signed_in_clinic(client, network, other)
    assert "Nothing on the waitlist." in await (await client.get("/spoke/waitlist")).text()
    csrf = await page_csrf(client, "/spoke/waitlist")
    refused = await client.post(
        f"/spoke/waitlist/{request_id}/leave", data={"csrf_token": csrf, "confirmed": "yes"}
    )
    assert refused.status == 404
    assert await conn.fetchval("SELECT status FROM slot_waitlist") == "waiting"


async def test_a_time_that_opened_shows_on_the_dashboard_until_it_passes(
    client: TestClient,
    network: Network,
    setting: Bookable,
    conn: asyncpg.Connection,
    clock: Clock,
) -> None:
    booked = await booking(
        client,
        setting.spoke,
        service_id=setting.service.id,
        consultant_id=setting.consultant.id,
        patient_id=setting.patient.id,
        start="2027-03-08T17:00:00Z",
    )
    waiting = await bookable(network)
    await client.post(
        "/api/v1/waitlist",
        json={
            "service_id": setting.service.id,
            "patient_state": "VT",
            "latest_date": "2027-03-10",
            "patient_id": str(waiting.patient.id),
        },
        headers=waiting.spoke.headers,
    )
    await signed_in_clinic(client, network, waiting)
    before = await (await client.get("/spoke")).text()
    assert "Times that opened for you" in before and "None yet." in before

    cancelled = await client.post(
        f"/api/v1/bookings/{booked['id']}/cancel",
        json={"reason": "Patient asked"},
        headers=setting.spoke.headers,
    )
    assert cancelled.status == 200
    after = html.unescape(await (await client.get("/spoke")).text())
    assert "1</span> time opened for you" in after
    assert "Mon 8 Mar 2027, 12:00" in after  # 17:00Z in New York, the clinic's zone
    assert waiting.patient.family_name in after
    assert "start=2027-03-08T17:00:00Z" in after  # the link books it; nothing is booked yet
    assert (
        await conn.fetchval("SELECT count(*) FROM bookings WHERE spoke_id = $1", waiting.spoke.id)
        == 0
    )
    listed = html.unescape(await (await client.get("/spoke/waitlist")).text())
    assert "Time opened" in listed and "Book it" in listed

    # Once the time has passed it is offered no more; the request keeps waiting.
    clock.now = datetime(2027, 3, 8, 18, 0, tzinfo=UTC)
    listed = await (await client.get("/spoke/waitlist")).text()
    assert "Time opened" not in listed and "Waiting since" in listed
    assert "None yet." in await (await client.get("/spoke")).text()
