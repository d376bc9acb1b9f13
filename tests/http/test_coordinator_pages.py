"""The hub coordinator's pages: who may open them, and the program dashboard."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import datetime, time

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import booking_store
from scheduling.store import ExceptionRow
from tests.factories import (
    Clock,
    Network,
    SpokeUser,
    booking_in_store,
    econsult,
    page_csrf,
    sign_in,
    signed_note,
)
from tests.http.coordinator_support import (
    PAGES,
    SECTIONS,
    charts,
    coordinator,
    tables,
    tooltips,
    utc,
)

# --- access ------------------------------------------------------------------------------------


async def test_a_coordinator_and_a_hub_admin_can_open_every_coordinator_page(
    client: TestClient, network: Network
) -> None:
    for role in ("hub_coordinator", "hub_admin"):
        await coordinator(client, network, role)
        for path in PAGES:
            response = await client.get(path)
            assert response.status == 200, (role, path, await response.text())
            assert "<h1>" in await response.text()


async def test_a_clinic_user_cannot_open_coordinator_pages(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    email, password = await network.user("spoke_scheduler", spoke_id=spoke.id)
    await sign_in(client, email, password)
    for path in PAGES:
        response = await client.get(path)
        assert response.status == 403, path
        assert "not part of your role" in await response.text()
    token = await page_csrf(client, "/coordinator")
    post = await client.post(
        "/coordinator/spokes",
        data={
            "csrf_token": token,
            "slug": "sneaky",
            "name": "Sneaky",
            "state": "VT",
            "timezone": "America/New_York",
        },
    )
    assert post.status == 403


async def test_a_consultant_cannot_open_coordinator_pages(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    consultant = await network.consultant([])
    spoke = await network.spoke()
    email, password = await network.user("consultant", consultant_id=consultant.id)
    await sign_in(client, email, password)
    for path in (*PAGES, f"/coordinator/spokes/{spoke.id}"):
        assert (await client.get(path)).status == 403, path
    token = await page_csrf(client, "/coordinator")
    forms = {
        "/coordinator/consultants": {
            "name": "Me",
            "role": "psychiatric_consultant",
            "timezone": "America/New_York",
        },
        "/coordinator/spokes": {
            "slug": "mine",
            "name": "Mine",
            "state": "VT",
            "timezone": "America/New_York",
        },
        f"/coordinator/spokes/{spoke.id}": {"url": "https://evil.example/", "rotate_secret": "on"},
        "/coordinator/services": {
            "kind": "case_review",
            "name": "Mine",
            "duration_minutes": "30",
            "roles": "telehealth_counselor",
        },
        "/coordinator/clients": {"name": "Mine", "kind": "hub_admin"},
        f"/coordinator/clients/{spoke.client_id}/revoke": {},
        "/coordinator/deliveries/1/retry": {},
    }
    for path, fields in forms.items():
        post = await client.post(path, data={"csrf_token": token, **fields})
        assert post.status == 403, path
    changed = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM consultants) AS consultants,
               (SELECT count(*) FROM spokes) AS spokes,
               (SELECT count(*) FROM services) AS services,
               (SELECT count(*) FROM api_clients WHERE active) AS clients,
               (SELECT webhook_url FROM spokes) AS webhook
        """
    )
    assert tuple(changed) == (1, 1, 0, 1, None)


async def test_someone_signed_out_is_sent_to_sign_in(client: TestClient) -> None:
    response = await client.get("/coordinator/deliveries", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"].startswith("/signin?next=")


async def test_a_form_post_without_its_csrf_token_is_refused_and_changes_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    fields = {"slug": "forged", "name": "Forged", "state": "VT", "timezone": "America/New_York"}
    forged = await client.post("/coordinator/spokes", data=fields, allow_redirects=False)
    wrong = await client.post(
        "/coordinator/spokes", data={**fields, "csrf_token": "guess"}, allow_redirects=False
    )
    assert (forged.status, wrong.status) == (403, 403)
    assert "did not come from Telehub" in await forged.text()
    assert await conn.fetchval("SELECT count(*) FROM spokes") == 0


# --- the program dashboard --------------------------------------------------------------------


async def _booking(
    conn: asyncpg.Connection,
    service_id: int,
    consultant_id: int,
    spoke: SpokeUser,
    patient_id: uuid.UUID,
    start: datetime,
) -> uuid.UUID:
    """A one-hour booking at any time, past ones included (through the booking store)."""
    return await booking_in_store(
        conn,
        service_id=service_id,
        consultant_id=consultant_id,
        spoke_id=spoke.id,
        patient_id=patient_id,
        start=start,
    )


async def _econsult(
    client: TestClient,
    clock: Clock,
    spoke: SpokeUser,
    patient_id: uuid.UUID,
    service_id: int,
    at: datetime,
) -> str:
    """An e-consult the clinic submits at `at`, through the API."""
    clock.now = at
    return str((await econsult(client, spoke, patient_id=patient_id, service_id=service_id))["id"])


async def _answer(
    client: TestClient, clock: Clock, hub: dict[str, str], econsult_id: str, at: datetime
) -> str:
    """The consultant drafts and signs the answer at `at`; the note's id."""
    clock.now = at
    return str((await signed_note(client, hub, econsult_id, SECTIONS))["id"])


async def test_the_dashboard_charts_capacity_turnaround_loop_closure_and_no_shows(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    now = clock.now  # Monday 1 March 2027, 15:00 UTC; the hub's weeks start Monday in New York
    video = await network.service(duration_minutes=60)
    econsult_svc = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    # 7 hours a week in Los Angeles, less Wednesday afternoon off in the week of 8 March.
    away = ExceptionRow("time_off", utc(3, 10, 21), utc(3, 11, 1), None, "")
    doctor = await network.consultant(
        [video, econsult_svc],
        hours=((0, time(9), time(12)), (2, time(13), time(17))),
        exceptions=[away],
    )
    # 1 hour a week in New York.
    await network.consultant([video], timezone="America/New_York", hours=((1, time(9), time(10)),))
    riverside, hilltop = await network.spoke(), await network.spoke()
    patient = await network.patient(riverside)
    other = await network.patient(hilltop)

    # Booked: 1 hour this week, 2 next week; a cancelled session does not count.
    await _booking(conn, video.id, doctor.id, riverside, patient.id, utc(3, 3, 21))
    cancelled = await _booking(conn, video.id, doctor.id, riverside, patient.id, utc(3, 3, 22))
    await booking_store.cancel_booking(conn, cancelled, by="test", reason="patient asked")
    await _booking(conn, video.id, doctor.id, riverside, patient.id, utc(3, 8, 17))
    await _booking(conn, video.id, doctor.id, riverside, patient.id, utc(3, 8, 18))
    # Outcomes: the week of 15 February, one completed; of 22 February, three and a no-show.
    outcomes = (
        [(utc(2, 15, 17), "completed")]
        + [(utc(2, 22, h), "completed") for h in (17, 18, 19)]
        + [(utc(2, 24, 17), "no_show")]
    )
    hub_admin = network.hub_admin_headers()
    for start, outcome in outcomes:
        booking_id = await _booking(conn, video.id, doctor.id, riverside, patient.id, start)
        recorded = await client.post(
            f"/api/v1/bookings/{booking_id}/outcome", json={"outcome": outcome}, headers=hub_admin
        )
        assert recorded.status == 200, await recorded.text()

    # E-consults: answered in 6 hours and acknowledged 4 hours later; answered in 10 hours and
    # never acknowledged; one long overdue; one just submitted.
    hub = network.consultant_headers(doctor.id)
    first = await _econsult(client, clock, riverside, patient.id, econsult_svc.id, utc(2, 25, 14))
    note = await _answer(client, clock, hub, first, utc(2, 25, 20))
    clock.now = utc(2, 26, 0)
    acked = await client.post(f"/api/v1/notes/{note}/acknowledge", headers=riverside.headers)
    assert acked.status == 200
    second = await _econsult(client, clock, hilltop, other.id, econsult_svc.id, utc(2, 26, 14))
    await _answer(client, clock, hub, second, utc(2, 27, 0))
    await _econsult(client, clock, riverside, patient.id, econsult_svc.id, utc(2, 1, 14))
    await _econsult(client, clock, hilltop, other.id, econsult_svc.id, utc(3, 1, 10))
    clock.now = now

    await coordinator(client, network)
    # 19 weeks: the 12 before this one, this one, and the 6 after it.
    response = await client.get("/coordinator?since=2026-12-14&until=2027-04-25")
    assert response.status == 200
    html = await response.text()

    found = charts(html)
    assert set(found) == {
        "Weekly capacity and booked hours",
        "E-consult turnaround by consultant",
        "Loop closure by spoke",
        "No-show rate by week",
    }
    assert {
        "1 Mar, Capacity: 8 h",
        "1 Mar, Booked: 1 h",
        "8 Mar, Capacity: 4 h",
        "8 Mar, Booked: 2 h",
    } <= tooltips(found["Weekly capacity and booked hours"])
    assert tooltips(found["E-consult turnaround by consultant"]) == {
        f"{doctor.name}, Median: 8 h",
        f"{doctor.name}, 90th percentile: 9.6 h",
    }
    assert tooltips(found["Loop closure by spoke"]) == {f"{riverside.name}, Median: 4 h"}
    assert tooltips(found["No-show rate by week"]) == {
        "15 Feb, No-show rate: 0%",
        "22 Feb, No-show rate: 25%",
    }

    shown = tables(html)
    assert shown["table-capacity"][12:15] == [
        ["Mon 1 Mar 2027", "8", "1", "12.5%"],
        ["Mon 8 Mar 2027", "4", "2", "50%"],
        ["Mon 15 Mar 2027", "8", "0", "0%"],
    ]
    assert len(shown["table-capacity"]) == 1 + 19
    assert shown["table-turnaround"][1:] == [
        [doctor.name, "4", "2", "8", "9.6"],
        ["All consultants", "4", "2", "8", "9.6"],
    ]
    assert sorted(shown["table-closure"][1:3]) == sorted(
        [
            [riverside.name, "1", "1", "100%", "4", "4"],
            [hilltop.name, "1", "0", "0%", "— no data", "— no data"],
        ]
    )
    assert shown["table-closure"][3] == ["All spokes", "2", "1", "50%", "4", "4"]
    no_shows = shown["table-no-show"][1:]
    assert len(no_shows) == 19 and no_shows[0][0] == "Mon 14 Dec 2026"
    assert no_shows[9:12] == [
        ["Mon 15 Feb 2027", "1", "0", "0%"],
        ["Mon 22 Feb 2027", "3", "1", "25%"],
        ["Mon 1 Mar 2027", "0", "0", "— no data"],
    ]

    cards = re.findall(r'<div class="big">([^<]*)</div>\s*([^<]*)', html)
    assert [(big, text.strip()) for big, text in cards] == [
        ("2", "e-consults open"),
        ("1", "e-consults past due"),
        ("1", "consult notes not yet acknowledged"),
        ("2 days", "oldest unacknowledged note, signed Fri 26 Feb 2027, 19:00"),
    ]


async def test_an_empty_program_draws_every_chart_saying_there_is_no_data(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    html = await (await client.get("/coordinator")).text()
    found = charts(html)
    assert len(found) == 4
    for title in (
        "E-consult turnaround by consultant",
        "Loop closure by spoke",
        "No-show rate by week",
    ):
        assert "No data for this period" in ET.tostring(found[title], encoding="unicode")
    assert tables(html)["table-capacity"][-1] == ["Mon 1 Mar 2027", "0", "0", "— no data"]
