"""The hub consultant's pages: my week, availability, the worklist, the case, notes, the feed."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, date, datetime, time
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling import store as scheduling_store
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import Clock, Network, SpokeUser, booking, econsult, page_csrf, sign_in

NOTE = {
    "sections.assessment": "Opioid use disorder, severe, with fentanyl use; moderate depression.",
    "sections.recommendations.moud": "Low-dose buprenorphine initiation over 7 days.",
    "sections.recommendations.medications": "Sertraline 50 mg daily after induction.",
    "sections.recommendations.therapy": "",
    "sections.recommendations.referrals": "",
    "sections.follow_up": "Re-consult in 4 weeks, sooner if use returns.",
    "sections.visit_recommended": "true",
}
CONTEXT = {
    "current_moud": {"medication": "buprenorphine_naloxone", "daily_dose_mg": 16},
    "phq9": 18,
    "gad7": 11,
    "co_occurring_diagnoses": ["Major depressive disorder"],
    "urine_drug_screen": {
        "collected_on": "2027-02-26",
        "results": {"fentanyl": "positive", "xylazine": "positive", "cocaine": "negative"},
    },
    "pain": {"present": True, "score": 6, "notes": "Chronic low back pain"},
    "psychosocial_needs": ["housing", "transportation"],
    "family_involvement": "Sister attends visits",
}


class Hub:
    """A signed-in consultant in Los Angeles, their services, and a clinic with a patient."""

    consultant: Consultant
    econsult_service: Service
    video: Service
    spoke: SpokeUser
    patient: Patient


@pytest.fixture
async def hub(client: TestClient, network: Network) -> Hub:
    """A consultant (e-consults and video, Monday 09-12 and 21-23 Los Angeles), signed in."""
    h = Hub()
    h.econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=40, roles=["psychiatric_consultant"]
    )
    h.video = await network.service(duration_minutes=60)
    h.consultant = await network.consultant(
        [h.econsult_service, h.video],
        hours=((0, time(9), time(12)), (0, time(21), time(23))),
        timezone="America/Los_Angeles",
    )
    h.spoke = await network.spoke()
    h.patient = await network.patient(h.spoke, family_name="Okafor")
    email, password = await network.user("consultant", consultant_id=h.consultant.id)
    assert (await sign_in(client, email, password)).status == 303
    return h


async def book(client: TestClient, h: Hub, start: str, *, consultant_id: int | None = None) -> str:
    """A video session booked by the clinic through the API; its id."""
    booked = await booking(
        client,
        h.spoke,
        service_id=h.video.id,
        consultant_id=consultant_id or h.consultant.id,
        patient_id=h.patient.id,
        start=start,
    )
    return str(booked["id"])


async def ask(
    client: TestClient,
    h: Hub,
    *,
    patient: Patient | None = None,
    urgency: str = "routine",
    service: Service | None = None,
) -> str:
    """An e-consult from the clinic (assigned to the least-loaded consultant); its id."""
    asked = await econsult(
        client,
        h.spoke,
        patient_id=(patient or h.patient).id,
        service_id=(service or h.econsult_service).id,
        referring_clinician="Dr. Lena Park",
        question="Buprenorphine induction with fentanyl use: low-dose or standard?",
        clinical_context=CONTEXT,
        urgency=urgency,
    )
    return str(asked["id"])


async def post(client: TestClient, path: str, data: dict[str, str], page: str) -> ClientResponse:
    """A form post with the CSRF token of the page the form is on."""
    token = await page_csrf(client, page)
    return await client.post(path, data={**data, "csrf_token": token}, allow_redirects=False)


def value_of(html: str, field_id: str) -> str:
    """The value an input shows."""
    match = re.search(rf'<input id="{field_id}"[^>]*?value="([^"]*)"', html)
    assert match, f"no input {field_id}"
    return match.group(1)


def between(html: str, start: str, end: str) -> str:
    """The part of a page from one marker to the next."""
    return html.split(start, 1)[1].split(end, 1)[0]


async def notes_of(conn: asyncpg.Connection, econsult_id: str) -> list[asyncpg.Record]:
    """The e-consult's note versions as stored."""
    return await conn.fetch(
        "SELECT id, version, sections, signed_at FROM consult_notes "
        "WHERE econsult_id = $1 ORDER BY version",
        uuid.UUID(econsult_id),
    )


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


async def test_saving_availability_replaces_the_weekly_hours_and_time_off(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    form = await (await client.get("/hub/availability")).text()
    assert value_of(form, "f-hours-monday-0-start") == "09:00"
    assert value_of(form, "f-hours-monday-1-start") == "21:00"
    assert "America/Los Angeles" in form

    response = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "hours.tuesday.1.start": "13:00",
            "hours.tuesday.1.end": "17:30",
            "hours.friday.0.start": "10:00",
            "hours.friday.0.end": "",
            "hours.friday.0.services": "",
            "exceptions.0.kind": "time_off",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.note": "Conference",
        },
        "/hub/availability",
    )
    assert response.status == 422  # Friday has a start and no end
    rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time) for r in rules] == [(0, time(9)), (0, time(21))]

    response = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "hours.tuesday.1.start": "13:00",
            "hours.tuesday.1.end": "17:30",
            "exceptions.0.kind": "time_off",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.note": "Conference",
            "exceptions.1.kind": "time_off",
        },
        "/hub/availability",
    )
    assert response.status == 303
    rules, exceptions = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time, r.end_time) for r in rules] == [
        (1, time(8), time(12)),
        (1, time(13), time(17, 30)),
    ]
    assert [(e.kind, e.start, e.end, e.note) for e in exceptions] == [
        (
            "time_off",
            datetime(2027, 3, 8, 8, tzinfo=UTC),  # midnight in Los Angeles (PST)
            datetime(2027, 3, 13, 8, tzinfo=UTC),
            "Conference",
        )
    ]
    page = await (await client.get("/hub/availability")).text()
    assert "Your availability is saved" in page
    assert value_of(page, "f-exceptions-0-start") == "2027-03-08T00:00"

    removed = await post(
        client,
        "/hub/availability",
        {
            "hours.tuesday.0.start": "08:00",
            "hours.tuesday.0.end": "12:00",
            "exceptions.0.start": "2027-03-08T00:00",
            "exceptions.0.end": "2027-03-13T00:00",
            "exceptions.0.remove": "yes",
        },
        "/hub/availability",
    )
    assert removed.status == 303
    rules, exceptions = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert len(rules) == 1 and exceptions == []


async def test_a_bad_range_is_shown_next_to_its_field_and_keeps_what_was_typed(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    response = await post(
        client,
        "/hub/availability",
        {
            "hours.monday.0.start": "09:00",
            "hours.monday.0.end": "12:00",
            "hours.wednesday.1.start": "14:00",
            "hours.wednesday.1.end": "09:00",
            "exceptions.0.start": "2027-03-20T09:00",
            "exceptions.0.end": "soon",
        },
        "/hub/availability",
    )

    assert response.status == 422
    html = await response.text()
    assert '<p class="error" id="f-hours-wednesday-1-end-error">must be after start</p>' in html
    assert value_of(html, "f-hours-wednesday-1-start") == "14:00"
    assert value_of(html, "f-hours-wednesday-1-end") == "09:00"
    assert 'href="#f-hours-wednesday-1-end"' in html  # the summary links to the field
    assert 'id="f-exceptions-0-end-error">enter a date and a time' in html
    assert value_of(html, "f-exceptions-0-end") == "soon"
    assert value_of(html, "f-hours-monday-0-start") == "09:00"
    rules, _ = await scheduling_store.get_availability(conn, hub.consultant.id)
    assert [(r.weekday, r.start_time) for r in rules] == [(0, time(9)), (0, time(21))]


async def test_the_worklist_is_sorted_by_due_time_and_marks_overdue_ones(
    client: TestClient, network: Network, hub: Hub, clock: Clock
) -> None:
    birch = await network.patient(hub.spoke, family_name="Birch")
    alder = await network.patient(hub.spoke, family_name="Alder")
    routine = await ask(client, hub, patient=birch)  # asked first, due in 40 business hours
    urgent = await ask(client, hub, patient=alder, urgency="urgent")  # due in 8
    clock.now = datetime(2027, 3, 2, 16, 0, tzinfo=UTC)  # the urgent one is now past due

    html = await (await client.get("/hub/worklist")).text()

    rows = between(html, "<tbody>", "</tbody>").split("<tr")[1:]
    assert [urgent in rows[0], routine in rows[1]] == [True, True]
    assert 'class="tag overdue">overdue<' in rows[0] and 'class="is-overdue"' in rows[0]
    assert "overdue" not in rows[1]
    assert 'class="tag urgent">urgent<' in rows[0] and "routine" in rows[1]
    assert "Alder" in rows[0] and hub.spoke.name in rows[0]


async def test_a_note_is_drafted_signed_refused_once_signed_and_amended_as_version_two(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    draft = await post(client, f"{page}/note", {**NOTE, "action": "save"}, page)
    assert draft.status == 303 and draft.headers["Location"] == f"{page}#note"
    [saved] = await notes_of(conn, econsult_id)
    assert saved["signed_at"] is None and saved["version"] == 1
    assert saved["sections"]["recommendations"]["moud"].startswith("Low-dose")
    html = await (await client.get(page)).text()
    assert f'name="note_id" value="{saved["id"]}"' in html
    assert "Opioid use disorder, severe" in html  # the draft is shown to edit

    signed = await post(
        client, f"{page}/note", {**NOTE, "note_id": str(saved["id"]), "action": "sign"}, page
    )
    assert signed.status == 303
    [note] = await notes_of(conn, econsult_id)
    assert note["signed_at"] is not None
    event = await conn.fetchrow("SELECT event_type, spoke_id FROM outbox")
    assert (event["event_type"], event["spoke_id"]) == ("note.signed", hub.spoke.id)
    html = await (await client.get(page)).text()
    assert "Version 1" in html and 'class="tag signed"' in html
    assert "Write an amendment" in html and 'name="note_id"' not in html

    csrf = await page_csrf(client, page)
    stale = await client.post(  # the form of a tab opened before signing
        f"{page}/note",
        data={
            **NOTE,
            "sections.assessment": "Changed",
            "note_id": str(note["id"]),
            "csrf_token": csrf,
        },
        allow_redirects=False,
    )
    assert stale.status == 409
    assert "can no longer change" in await stale.text()
    assert (await notes_of(conn, econsult_id))[0]["sections"] == note["sections"]

    amend = await (await client.get(page, params={"amend": "1"})).text()
    assert "Amendment: version 2" in amend and "Opioid use disorder, severe" in amend
    amended = {**NOTE, "sections.follow_up": "Re-consult in 2 weeks."}
    assert (await post(client, f"{page}/note", amended, page)).status == 303
    first, second = await notes_of(conn, econsult_id)
    assert (second["version"], second["signed_at"]) == (2, None)
    resigned = await post(client, f"/hub/notes/{second['id']}/sign", {}, page)
    assert resigned.status == 303
    first, second = await notes_of(conn, econsult_id)
    assert second["signed_at"] is not None and second["sections"]["follow_up"] == (
        "Re-consult in 2 weeks."
    )
    assert first["sections"] == note["sections"]  # version 1 is as it was signed
    html = await (await client.get(page)).text()
    assert "Version 2 (amendment)" in html and "Earlier versions (1)" in html
    events = await conn.fetch("SELECT event_type FROM outbox ORDER BY id")
    assert [e["event_type"] for e in events] == ["note.signed", "note.amended"]


async def test_signing_without_the_required_sections_says_which_are_missing(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    typed = {"sections.assessment": "Depression, moderate.", "action": "sign"}

    response = await post(client, f"{page}/note", typed, page)

    assert response.status == 422
    html = await response.text()
    assert "Write at least one recommendation before signing." in html
    assert "Write the follow-up plan before signing." in html
    assert 'href="#f-sections-follow_up"' in html
    assert "Write the assessment before signing." not in html
    assert ">Depression, moderate.</textarea>" in html  # kept as typed
    assert await notes_of(conn, econsult_id) == []  # signing refused: nothing saved
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0


async def test_asking_the_clinic_pauses_the_clock(
    client: TestClient, hub: Hub, conn: asyncpg.Connection, clock: Clock
) -> None:
    econsult_id = await ask(client, hub)
    page = f"/hub/econsults/{econsult_id}"
    html = await (await client.get(page)).text()
    assert "Buprenorphine/naloxone, 16 mg a day" in html
    assert "18 of 27: moderately severe" in html and "11 of 21: moderate" in html
    assert "Positive for fentanyl, xylazine; Negative for cocaine" in html
    assert "Present, 6 of 10, Chronic low back pain" in html
    assert "housing, transportation" in html and "Sister attends visits" in html

    empty = await post(client, f"{page}/messages", {"body": "", "asks_clinic": "true"}, page)
    assert empty.status == 422
    assert 'id="f-body-error"' in await empty.text()
    asked = await post(
        client,
        f"{page}/messages",
        {"body": "What is the current buprenorphine dose?", "asks_clinic": "true"},
        page,
    )

    assert asked.status == 303
    row = await conn.fetchrow(
        "SELECT status, paused_at FROM econsults WHERE id = $1", uuid.UUID(econsult_id)
    )
    assert (row["status"], row["paused_at"]) == ("awaiting_clinic", clock.now)
    html = await (await client.get(page)).text()
    assert "The clock is paused" in html and "What is the current buprenorphine dose?" in html
    worklist = await (await client.get("/hub/worklist")).text()
    assert "awaiting clinic (clock paused)" in worklist


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


def submitted_by_browser(html: str) -> dict[str, str]:
    """What a browser would send for the page's first POST form, left as it is."""
    form = between(html, '<form method="post" action="/hub/availability"', "</form>")
    fields: dict[str, str] = {}
    for tag in re.findall(r"<input\b[^>]*>", form):
        name = re.search(r'name="([^"]+)"', tag)
        value = re.search(r'value="([^"]*)"', tag)
        if name and (' type="checkbox"' not in tag or " checked" in tag):
            fields[name.group(1)] = value.group(1) if value else ""
    for name, options in re.findall(r'<select[^>]*name="([^"]+)"[^>]*>(.*?)</select>', form, re.S):
        chosen = re.search(r'<option value="([^"]*)" selected>', options)
        fields[name] = chosen.group(1) if chosen else ""
    return fields


async def test_saving_the_hours_unchanged_keeps_what_only_the_api_can_set(
    client: TestClient, hub: Hub, conn: asyncpg.Connection
) -> None:
    rules = [
        scheduling_store.RuleRow(0, time(9), time(12), (hub.video.id,), None, None),
        scheduling_store.RuleRow(3, time(13), time(0), None, None, date(2027, 6, 30)),
    ]
    exceptions = [
        scheduling_store.ExceptionRow(
            "extra_hours",
            datetime(2027, 3, 6, 17, tzinfo=UTC),
            datetime(2027, 3, 6, 20, tzinfo=UTC),
            (hub.econsult_service.id,),
            "Saturday clinic",
        )
    ]
    await scheduling_store.replace_availability(conn, hub.consultant.id, rules, exceptions)
    html = await (await client.get("/hub/availability")).text()
    assert f"Only for {hub.video.name}" in html and "Until 2027-06-30" in html

    response = await client.post(
        "/hub/availability", data=submitted_by_browser(html), allow_redirects=False
    )

    assert response.status == 303
    assert await scheduling_store.get_availability(conn, hub.consultant.id) == (
        rules,
        exceptions,
    )


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
