"""The hub coordinator's pages: program dashboard, network, API clients, webhook deliveries."""

from __future__ import annotations

import re
import uuid
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, time, timedelta
from html.parser import HTMLParser
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from scheduling import booking_store
from scheduling.slots import Period
from scheduling.store import ExceptionRow
from tests.factories import Clock, Network, SpokeUser, page_csrf, sign_in

PAGES = (
    "/coordinator",
    "/coordinator/consultants",
    "/coordinator/spokes",
    "/coordinator/services",
    "/coordinator/clients",
    "/coordinator/deliveries",
)
SECTIONS = {
    "assessment": "Opioid use disorder, severe; moderate depression.",
    "recommendations": {
        "moud": "Buprenorphine.",
        "medications": "",
        "therapy": "Weekly counseling.",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks.",
    "visit_recommended": False,
}
SVG = "{http://www.w3.org/2000/svg}"


def utc(month: int, day: int, hour: int = 0) -> datetime:
    """An aware UTC datetime in 2027 (or December 2026 for month 12)."""
    return datetime(2026 if month == 12 else 2027, month, day, hour, tzinfo=UTC)


class _Tables(HTMLParser):
    """Collects the text of each row of each table with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """Each table's rows (header row first) as lists of cell texts, by table id."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def charts(html: str) -> dict[str, ET.Element]:
    """Each `<svg role="img">` on the page, parsed as XML, by its accessible title."""
    found = {}
    for markup in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL):
        root = ET.fromstring(markup)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby", "").split()
        title = root.find(f"{SVG}title[@id='{title_id}']")
        assert title is not None and root.find(f"{SVG}desc[@id='{desc_id}']") is not None
        found[title.text or ""] = root
    return found


def tooltips(chart: ET.Element) -> set[str]:
    """What each bar of a chart says about itself."""
    return {
        t.text or "" for r in chart.iter(f"{SVG}rect") if (t := r.find(f"{SVG}title")) is not None
    }


async def coordinator(client: TestClient, network: Network, role: str = "hub_coordinator") -> None:
    """Sign in a hub coordinator (the client keeps the session cookie)."""
    email, password = await network.user(role)
    assert (await sign_in(client, email, password)).status == 303


async def post_form(
    client: TestClient, path: str, data: list[tuple[str, str]] | dict[str, str], page: str = ""
) -> Any:
    """Post a form the way the browser does, with the CSRF token of the page it sits on."""
    token = await page_csrf(client, page or path)
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    return await client.post(path, data=[("csrf_token", token), *fields], allow_redirects=False)


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
    """A one-hour booking, written through the booking store."""
    period = Period(start, start + timedelta(hours=1))
    booking = await booking_store.insert_booking(
        conn,
        service_id=service_id,
        consultant_id=consultant_id,
        spoke_id=spoke.id,
        patient_id=patient_id,
        period=period,
        blocked=period,
        reason="",
        video_link=None,
        created_by="test",
    )
    return booking.id


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
    response = await client.post(
        "/api/v1/econsults",
        json={
            "patient_id": str(patient_id),
            "service_id": service_id,
            "referring_clinician": "Dr. Park",
            "question": "MOUD choice?",
        },
        headers=spoke.headers,
    )
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def _answer(
    client: TestClient, clock: Clock, hub: dict[str, str], econsult_id: str, at: datetime
) -> str:
    """The consultant drafts and signs the answer at `at`; the note's id."""
    clock.now = at
    draft = await client.post(
        f"/api/v1/econsults/{econsult_id}/notes", json={"sections": SECTIONS}, headers=hub
    )
    assert draft.status == 201, await draft.text()
    note_id = str((await draft.json())["id"])
    assert (await client.post(f"/api/v1/notes/{note_id}/sign", headers=hub)).status == 200
    return note_id


async def test_the_dashboard_charts_capacity_turnaround_loop_closure_and_no_shows(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    now = clock.now  # Monday 1 March 2027, 15:00 UTC; the hub's weeks start Monday in New York
    video = await network.service(duration_minutes=60)
    econsult = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    # 7 hours a week in Los Angeles, less Wednesday afternoon off in the week of 8 March.
    away = ExceptionRow("time_off", utc(3, 10, 21), utc(3, 11, 1), None, "")
    doctor = await network.consultant(
        [video, econsult],
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
    first = await _econsult(client, clock, riverside, patient.id, econsult.id, utc(2, 25, 14))
    note = await _answer(client, clock, hub, first, utc(2, 25, 20))
    clock.now = utc(2, 26, 0)
    acked = await client.post(f"/api/v1/notes/{note}/acknowledge", headers=riverside.headers)
    assert acked.status == 200
    second = await _econsult(client, clock, hilltop, other.id, econsult.id, utc(2, 26, 14))
    await _answer(client, clock, hub, second, utc(2, 27, 0))
    await _econsult(client, clock, riverside, patient.id, econsult.id, utc(2, 1, 14))
    await _econsult(client, clock, hilltop, other.id, econsult.id, utc(3, 1, 10))
    clock.now = now

    await coordinator(client, network)
    response = await client.get("/coordinator")
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
    assert shown["table-capacity"][1:4] == [
        ["Mon 1 Mar 2027", "8", "1", "12.5%"],
        ["Mon 8 Mar 2027", "4", "2", "50%"],
        ["Mon 15 Mar 2027", "8", "0", "0%"],
    ]
    assert len(shown["table-capacity"]) == 1 + 8
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
    assert len(no_shows) == 12 and no_shows[0][0] == "Mon 14 Dec 2026"
    assert no_shows[-3:] == [
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
    assert tables(html)["table-capacity"][1] == ["Mon 1 Mar 2027", "0", "0", "— no data"]


# --- consultants, spokes, services --------------------------------------------------------------


async def test_adding_a_consultant_through_the_form_writes_the_consultant(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    video = await network.service(name="Video visit")
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", "Dr. Ada Ruiz"),
            ("credentials", "MD"),
            ("role", "psychiatric_consultant"),
            ("timezone", "America/Chicago"),
            ("licensed_states", "VT"),
            ("licensed_states", "NH"),
            ("service_ids", str(video.id)),
        ],
    )
    assert response.status == 303
    assert response.headers["Location"] == "/coordinator/consultants"
    row = await conn.fetchrow(
        "SELECT id, role, timezone, licensed_states FROM consultants WHERE name = 'Dr. Ada Ruiz'"
    )
    assert (row["role"], row["timezone"], row["licensed_states"]) == (
        "psychiatric_consultant",
        "America/Chicago",
        ["NH", "VT"],
    )
    services = await conn.fetch(
        "SELECT service_id FROM consultant_services WHERE consultant_id = $1", row["id"]
    )
    assert [s["service_id"] for s in services] == [video.id]
    page = await (await client.get("/coordinator/consultants")).text()
    assert "Added Dr. Ada Ruiz." in page
    listed = tables(page)["consultants"]
    assert listed[1] == [
        "Dr. Ada Ruiz, MD",
        "Psychiatric consultant",
        "America/Chicago",
        "NH, VT",
        "Video visit",
        "active",
    ]


async def test_a_bad_consultant_form_says_what_to_fix_and_keeps_what_was_typed(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", ""),
            ("credentials", "MD, FASAM"),
            ("role", "telehealth_counselor"),
            ("timezone", "Mars/Olympus"),
            ("licensed_states", "VT"),
            ("licensed_states", "NM"),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert 'id="f-name-error">is required<' in html
    assert re.search(r'id="f-timezone-error">must be an IANA time zone', html)
    assert 'value="Mars/Olympus"' in html and 'value="MD, FASAM"' in html
    assert re.search(r'value="telehealth_counselor"\s+selected', html)
    assert 'value="VT" checked' in html
    assert 'value="NM" checked' in html and 'value="NH" checked' not in html
    assert '<a href="#f-timezone">' in html  # the summary links to the field
    assert await conn.fetchval("SELECT count(*) FROM consultants") == 0


async def test_a_consultant_offered_a_service_their_role_may_not_deliver_is_refused(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    econsult = await network.service(
        kind="econsult",
        name="Psychiatry e-consult",
        turnaround_hours=48,
        roles=["psychiatric_consultant"],
    )
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("name", "Sam Lee"),
            ("role", "peer_recovery_specialist"),
            ("timezone", "America/New_York"),
            ("service_ids", str(econsult.id)),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(
        r'id="f-service_ids-error">a peer_recovery_specialist may not deliver Psychiatry', html
    )
    assert 'value="Sam Lee"' in html
    assert f'value="{econsult.id}" id="f-service_ids" checked' in html
    assert await conn.fetchval("SELECT count(*) FROM consultants") == 0


async def test_adding_a_spoke_writes_it_and_opens_its_page(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/spokes",
        {
            "name": "Riverside Family Medicine",
            "slug": "riverside-fm",
            "state": "vt",
            "timezone": "America/New_York",
        },
    )
    assert response.status == 303
    row = await conn.fetchrow("SELECT id, name, state, timezone FROM spokes")
    assert tuple(row) == (row["id"], "Riverside Family Medicine", "VT", "America/New_York")
    assert response.headers["Location"] == f"/coordinator/spokes/{row['id']}"
    page = await (await client.get(response.headers["Location"])).text()
    assert "Added Riverside Family Medicine." in page
    listed = tables(await (await client.get("/coordinator/spokes")).text())["spokes"]
    assert listed[1] == [
        "Riverside Family Medicine",
        "riverside-fm",
        "VT",
        "America/New_York",
        "none",
    ]


async def test_a_bad_spoke_form_says_what_to_fix_and_a_taken_slug_is_a_conflict(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    bad = await post_form(
        client,
        "/coordinator/spokes",
        {"name": "Hilltop Clinic", "slug": "Hill Top!", "state": "ZZ", "timezone": "Nowhere"},
    )
    assert bad.status == 422
    html = await bad.text()
    assert re.search(r'id="f-slug-error">use 2 to 63 lowercase letters', html)
    assert re.search(r'id="f-state-error">must be a two-letter US state', html)
    assert re.search(r'id="f-timezone-error">must be an IANA time zone', html)
    assert 'value="Hill Top!"' in html and 'value="Hilltop Clinic"' in html

    good = {"name": "Hilltop", "slug": "hilltop", "state": "NH", "timezone": "America/New_York"}
    assert (await post_form(client, "/coordinator/spokes", good)).status == 303
    again = await post_form(client, "/coordinator/spokes", {**good, "name": "Hilltop Two"})
    assert again.status == 409
    html = await again.text()
    assert re.search(r'id="f-slug-error">another spoke uses &#39;hilltop&#39; already', html)
    assert 'value="Hilltop Two"' in html
    assert await conn.fetchval("SELECT count(*) FROM spokes") == 1


async def test_a_spokes_webhook_secret_is_shown_once_when_issued_and_when_rotated(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    path = f"/coordinator/spokes/{spoke.id}"
    response = await post_form(
        client, path, {"url": "https://ehr.example/telehub", "full_payload": "on"}
    )
    assert response.status == 200
    html = await response.text()
    secret = re.search(r'id="webhook-secret">(whsec_[^<]+)<', html)
    assert secret, html
    row = await conn.fetchrow(
        "SELECT webhook_url, webhook_secret, webhook_full_payload FROM spokes WHERE id = $1",
        spoke.id,
    )
    assert tuple(row) == ("https://ehr.example/telehub", secret.group(1), True)
    later = await (await client.get(path)).text()
    assert secret.group(1) not in later and 'value="https://ehr.example/telehub"' in later

    kept = await post_form(client, path, {"url": "https://ehr.example/v2"})
    assert kept.status == 303  # no new secret: nothing to show, back to the page
    assert await conn.fetchval("SELECT webhook_secret FROM spokes") == secret.group(1)
    rotated = await post_form(
        client, path, {"url": "https://ehr.example/v2", "rotate_secret": "on"}
    )
    fresh = re.search(r'id="webhook-secret">(whsec_[^<]+)<', await rotated.text())
    assert fresh and fresh.group(1) != secret.group(1)
    assert await conn.fetchval("SELECT webhook_secret FROM spokes") == fresh.group(1)


async def test_a_bad_webhook_url_says_what_to_fix_and_keeps_it(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    response = await post_form(
        client, f"/coordinator/spokes/{spoke.id}", {"url": "ftp://ehr.example/in"}
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(r'id="f-url-error">must be an https URL', html)
    assert 'value="ftp://ehr.example/in"' in html
    assert await conn.fetchval("SELECT webhook_url FROM spokes") is None


async def test_an_unknown_spoke_page_is_not_found(client: TestClient, network: Network) -> None:
    await coordinator(client, network)
    assert (await client.get("/coordinator/spokes/999")).status == 404
    assert (await client.get("/coordinator/spokes/x")).status == 404


async def test_adding_a_service_through_the_form_writes_it_with_its_roles(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "econsult"),
            ("name", "Addiction psychiatry e-consult"),
            ("duration_minutes", "30"),
            ("buffer_before_minutes", ""),
            ("buffer_after_minutes", "5"),
            ("min_notice_minutes", ""),
            ("horizon_days", "30"),
            ("turnaround_hours", "48"),
            ("roles", "psychiatric_consultant"),
            ("roles", "addiction_medicine_specialist"),
        ],
    )
    assert response.status == 303
    row = await conn.fetchrow(
        "SELECT kind, duration_minutes, buffer_before_minutes, buffer_after_minutes,"
        " horizon_days, turnaround_hours, roles FROM services"
    )
    assert tuple(row) == (
        "econsult",
        30,
        0,
        5,
        30,
        48,
        ["psychiatric_consultant", "addiction_medicine_specialist"],
    )
    page = await (await client.get("/coordinator/services")).text()
    assert "Added Addiction psychiatry e-consult." in page
    assert tables(page)["services"][1][0] == "Addiction psychiatry e-consult"


async def test_a_bad_service_form_says_what_to_fix_and_keeps_what_was_typed(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "video_session"),
            ("name", "Counseling"),
            ("duration_minutes", "3"),
            ("horizon_days", "30"),
        ],
    )
    assert response.status == 422
    html = await response.text()
    assert re.search(r'id="f-duration_minutes-error">must be 5 or more<', html)
    assert 'id="f-roles-error">choose at least one<' in html
    assert 'value="Counseling"' in html and 'value="30"' in html
    assert re.search(r'value="video_session"\s+selected', html)

    no_sla = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "econsult"),
            ("name", "Quick question"),
            ("duration_minutes", "15"),
            ("roles", "telehealth_counselor"),
        ],
    )
    assert no_sla.status == 422
    html = await no_sla.text()
    assert 'id="f-turnaround_hours-error">is required for e-consults<' in html
    assert 'value="telehealth_counselor" checked' in html
    assert await conn.fetchval("SELECT count(*) FROM services") == 0


async def test_a_service_name_in_use_is_a_conflict_on_the_name(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await network.service(name="Counseling")
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/services",
        [
            ("kind", "video_session"),
            ("name", "Counseling"),
            ("duration_minutes", "50"),
            ("roles", "telehealth_counselor"),
        ],
    )
    assert response.status == 409
    assert re.search(
        r'id="f-name-error">a service named &#39;Counseling&#39; exists already',
        await response.text(),
    )
    assert await conn.fetchval("SELECT count(*) FROM services") == 1


# --- API clients --------------------------------------------------------------------------------


async def _token(client: TestClient, client_id: str, secret: str) -> Any:
    return await client.post(
        "/oauth/token",
        data={"grant_type": "client_credentials", "client_id": client_id, "client_secret": secret},
    )


async def test_a_new_clients_secret_is_shown_once_works_and_stops_working_when_revoked(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    created = await post_form(
        client,
        "/coordinator/clients",
        {"name": "Riverside EHR", "kind": "spoke", "spoke_id": str(spoke.id), "consultant_id": ""},
    )
    assert created.status == 200
    html = await created.text()
    client_id = re.search(r'id="new-client-id">([^<]+)<', html)
    secret = re.search(r'id="new-client-secret">([^<]+)<', html)
    assert client_id and secret
    stored = await conn.fetchrow(
        "SELECT name, kind, spoke_id, secret_hash, active FROM api_clients WHERE client_id = $1",
        client_id.group(1),
    )
    assert (stored["name"], stored["kind"], stored["spoke_id"], stored["active"]) == (
        "Riverside EHR",
        "spoke",
        spoke.id,
        True,
    )
    assert secret.group(1).encode() not in stored["secret_hash"]

    granted = await _token(client, client_id.group(1), secret.group(1))
    assert granted.status == 200, await granted.text()
    token = (await granted.json())["access_token"]
    services = await client.get("/api/v1/services", headers={"Authorization": f"Bearer {token}"})
    assert services.status == 200

    listing = await (await client.get("/coordinator/clients")).text()
    assert secret.group(1) not in listing  # shown once, never again
    row = next(r for r in tables(listing)["clients"] if r[1] == client_id.group(1))
    assert row[:4] == ["Riverside EHR", client_id.group(1), f"Clinic: {spoke.name}", "active"]

    revoked = await post_form(
        client, f"/coordinator/clients/{client_id.group(1)}/revoke", {}, page="/coordinator/clients"
    )
    assert revoked.status == 303
    refused = await _token(client, client_id.group(1), secret.group(1))
    assert refused.status == 401
    assert (await refused.json())["error"] == "invalid_client"
    listing = await (await client.get("/coordinator/clients")).text()
    assert f"Revoked {client_id.group(1)}" in listing
    row = next(r for r in tables(listing)["clients"] if r[1] == client_id.group(1))
    assert row[3] == "revoked"


async def test_a_client_form_without_its_owner_says_what_to_fix(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client, "/coordinator/clients", {"name": "Lost EHR", "kind": "spoke", "spoke_id": ""}
    )
    assert response.status == 422
    html = await response.text()
    assert 'id="f-spoke_id-error">choose the clinic whose system this is<' in html
    assert 'value="Lost EHR"' in html and "new-client-secret" not in html
    missing = await post_form(
        client, "/coordinator/clients", {"name": "Ghost", "kind": "spoke", "spoke_id": "999"}
    )
    assert missing.status == 422
    assert 'id="f-spoke_id-error">no such clinic<' in await missing.text()
    assert await conn.fetchval("SELECT count(*) FROM api_clients") == 0


async def test_revoking_an_unknown_client_is_not_found(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client, "/coordinator/clients/th_nobody/revoke", {}, page="/coordinator/clients"
    )
    assert response.status == 404


# --- deliveries ---------------------------------------------------------------------------------


async def _signed_note(client: TestClient, network: Network) -> SpokeUser:
    """A spoke without a webhook, and a note signed for it: one pending delivery."""
    econsult = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    doctor = await network.consultant([econsult])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    response = await client.post(
        "/api/v1/econsults",
        json={
            "patient_id": str(patient.id),
            "service_id": econsult.id,
            "referring_clinician": "Dr. Park",
            "question": "MOUD choice?",
        },
        headers=spoke.headers,
    )
    hub = network.consultant_headers(doctor.id)
    draft = await client.post(
        f"/api/v1/econsults/{(await response.json())['id']}/notes",
        json={"sections": SECTIONS},
        headers=hub,
    )
    note_id = (await draft.json())["id"]
    assert (await client.post(f"/api/v1/notes/{note_id}/sign", headers=hub)).status == 200
    return spoke


async def test_the_deliveries_page_lists_a_pending_delivery_with_a_retry_button(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await _signed_note(client, network)
    delivery_id = await conn.fetchval("SELECT id FROM outbox")
    await coordinator(client, network)
    html = await (await client.get("/coordinator/deliveries?state=pending")).text()
    rows = tables(html)["deliveries"]
    assert len(rows) == 2
    assert rows[1][0].startswith(f"note.signed #{delivery_id}")
    assert rows[1][1:4] == [spoke.name, "pending", "0"]
    assert f'action="/coordinator/deliveries/{delivery_id}/retry"' in html
    delivered = await (await client.get("/coordinator/deliveries?state=delivered")).text()
    assert "deliveries" not in tables(delivered) and "No deliveries delivered." in delivered


async def test_retrying_a_failed_delivery_puts_it_back_in_line(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await _signed_note(client, network)
    delivery_id = await conn.fetchval(
        """
        UPDATE outbox SET failed_at = now(), attempts = 7, last_status = 503,
            last_error = 'Service Unavailable', next_attempt_at = now() + interval '1 day'
        RETURNING id
        """
    )
    await coordinator(client, network)
    failed = await (await client.get("/coordinator/deliveries?state=failed")).text()
    rows = tables(failed)["deliveries"]
    assert rows[1][2:5] == ["failed", "7", "HTTP 503: Service Unavailable"]

    response = await post_form(
        client, f"/coordinator/deliveries/{delivery_id}/retry", {}, page="/coordinator/deliveries"
    )
    assert response.status == 303
    row = await conn.fetchrow(
        "SELECT failed_at, next_attempt_at <= now() AS due FROM outbox WHERE id = $1", delivery_id
    )
    assert row["failed_at"] is None and row["due"]
    page = await (await client.get("/coordinator/deliveries")).text()
    assert f"Delivery {delivery_id} (note.signed) will be tried again now." in page
    assert tables(page)["deliveries"][1][2] == "pending"


async def test_a_delivered_event_cannot_be_retried(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await _signed_note(client, network)
    delivery_id = await conn.fetchval(
        "UPDATE outbox SET delivered_at = now(), last_status = 204 RETURNING id"
    )
    await coordinator(client, network)
    page = await (await client.get("/coordinator/deliveries")).text()
    assert "/retry" not in page
    response = await post_form(
        client, f"/coordinator/deliveries/{delivery_id}/retry", {}, page="/coordinator/deliveries"
    )
    assert response.status == 404


async def test_an_unknown_delivery_state_filter_is_refused(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await client.get("/coordinator/deliveries?state=lost")
    assert response.status == 422


@pytest.mark.parametrize(
    "path", ["/coordinator/deliveries/abc/retry", "/coordinator/deliveries/0/retry"]
)
async def test_retrying_a_malformed_or_missing_delivery_is_not_found(
    client: TestClient, network: Network, path: str
) -> None:
    await coordinator(client, network)
    response = await post_form(client, path, {}, page="/coordinator/deliveries")
    assert response.status == 404
