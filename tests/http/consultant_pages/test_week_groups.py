"""My week shows the group sessions the counselor runs: on their day, in time order with the
bookings, with the seats taken and a link to the roster; never who holds the seats, and never
another counselor's group."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling import groups
from scheduling.groups_schemas import GroupIn
from scheduling.store import Service
from telehub.audit import Trail
from telehub.validation import validate
from tests.factories import Network, SpokeUser, booking, sign_in
from tests.factories.groups import HUB, NOW, enrol, group
from tests.http.consultant_pages.support import between

# The clock is Monday 1 March 2027; the week shown is the next one, Monday 8 March.
EVENING = datetime(2027, 3, 8, 23, 0, tzinfo=UTC)  # Monday 18:00 in New York
MORNING = datetime(2027, 3, 8, 13, 0, tzinfo=UTC)  # Monday 08:00 in New York
MONDAY = ('id="d-2027-03-08"', 'id="d-2027-03-09"')


class Counselor:
    """A New York counselor offering 1:1 video sessions and groups, and a clinic."""

    def __init__(self, me: Consultant, video: Service, groups: Service, spoke: SpokeUser) -> None:
        self.me, self.video, self.groups, self.spoke = me, video, groups, spoke


async def _counselor(network: Network) -> Counselor:
    video = await network.service(duration_minutes=60)
    group_service = await network.service(
        kind="group_session", duration_minutes=60, roles=["telehealth_counselor"]
    )
    me = await network.consultant(
        [video, group_service], timezone="America/New_York", role="telehealth_counselor"
    )
    return Counselor(me, video, group_service, await network.spoke())


async def _signed_in(client: TestClient, network: Network, consultant_id: int) -> None:
    email, password = await network.user("consultant", consultant_id=consultant_id)
    assert (await sign_in(client, email, password)).status == 303


async def _group(
    network: Network, c: Counselor, title: str, first_start: datetime, *, count: int = 1
) -> groups.Group:
    """A group of the counselor's with ten seats, made by the hub."""
    body = validate(
        GroupIn,
        {
            "service_id": c.groups.id,
            "consultant_id": c.me.id,
            "title": title,
            "capacity": 10,
            "first_start": first_start.isoformat(),
            "repeat": "weekly" if count > 1 else "once",
            "count": count,
        },
    )
    async with network.pool.acquire() as conn, conn.transaction():
        return await groups.create(conn, HUB, Trail(HUB.actor), body, NOW)


async def _six_seated(network: Network, c: Counselor, group_id: uuid.UUID) -> list[str]:
    """Six of the clinic's patients enrolled in the group; their family names."""
    names = [f"Seated{n}" for n in range(6)]
    for name in names:
        patient = await network.patient(c.spoke, family_name=name)
        await enrol(network, c.spoke, group_id, patient.id)
    return names


async def test_the_counselors_groups_show_on_their_day_in_time_order_with_seats_and_a_link(
    client: TestClient, network: Network
) -> None:
    c = await _counselor(network)
    early = await _group(network, c, "Early check-in", MORNING)
    evening = await _group(network, c, "Evening MOUD group", EVENING)
    seated = await _six_seated(network, c, evening.id)
    okafor = await network.patient(c.spoke, family_name="Okafor")
    booked = await booking(  # Monday 10:00 in New York: between the two groups
        client,
        c.spoke,
        service_id=c.video.id,
        consultant_id=c.me.id,
        patient_id=okafor.id,
        start="2027-03-08T15:00:00Z",
    )
    other = await group(network, title="Another counselor group", first_start=EVENING)
    await _signed_in(client, network, c.me.id)

    response = await client.get("/hub", params={"week": "2027-03-08"})
    html = await response.text()

    assert response.status == 200
    monday = between(html, *MONDAY)
    early_at = monday.index(f'id="g-{early.occurrences[0].id}"')
    booking_at = monday.index(f'id="b-{booked["id"]}"')
    evening_at = monday.index(f'id="g-{evening.occurrences[0].id}"')
    assert early_at < booking_at < evening_at
    row = monday[evening_at:].split("</tr>", 1)[0]
    assert "18:00\N{EN DASH}19:00" in row
    assert "Evening MOUD group" in row
    assert "6 of 10 seats" in row
    assert f'href="/hub/groups/{evening.id}/occurrences/1"' in row
    assert 'class="tag scheduled"' in row
    assert "0 of 10 seats" in monday[early_at:booking_at]
    assert "1 session and 2 group sessions this week." in html
    # Numbers only: who holds the seats is on the roster, not here.
    assert not any(name in html for name in seated)
    assert "Okafor" in monday  # the 1:1 booking's patient still is
    # Another counselor's group at the same time is not this counselor's week.
    assert "Another counselor group" not in html
    assert str(other.id) not in html

    roster = await client.get(f"/hub/groups/{evening.id}/occurrences/1")
    assert roster.status == 200
    roster_html = await roster.text()
    assert all(name in roster_html for name in seated)

    this_week = await (await client.get("/hub")).text()
    assert "Evening MOUD group" not in this_week


async def test_a_cancelled_occurrence_reads_cancelled(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    c = await _counselor(network)
    weekly = await _group(network, c, "Evening MOUD group", EVENING, count=2)
    await _six_seated(network, c, weekly.id)
    async with conn.transaction():
        await groups.cancel_from(
            conn, HUB, Trail(HUB.actor), weekly.id, 2, "Counselor on leave", NOW
        )
    await _signed_in(client, network, c.me.id)

    first = between(await (await client.get("/hub", params={"week": "2027-03-08"})).text(), *MONDAY)
    html = await (await client.get("/hub", params={"week": "2027-03-15"})).text()
    second = between(html, 'id="d-2027-03-15"', 'id="d-2027-03-16"')

    assert "6 of 10 seats" in first and 'class="tag scheduled"' in first
    # Still 18:00 in New York after the clocks changed on 14 March.
    row = second.split(f'id="g-{weekly.occurrences[1].id}"', 1)[1].split("</tr>", 1)[0]
    assert "18:00\N{EN DASH}19:00" in row
    assert "Evening MOUD group" in row
    assert 'class="tag cancelled">cancelled</span>' in row
    assert f'href="/hub/groups/{weekly.id}/occurrences/2"' in row
    assert "0 sessions this week." in html  # a cancelled group session is not counted
