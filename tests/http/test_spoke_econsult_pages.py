"""The clinic's e-consult and notes pages: the clinical template, the thread, inbox, print."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network
from tests.http.spoke_support import (
    NOTE,
    Clinic,
    econsult_form,
    econsult_via_api,
    field_html,
    multi,
    post,
    signed_note,
)


async def test_the_econsult_form_stores_the_structured_clinical_context(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    response = await client.post(
        "/spoke/econsults/new",
        data=[*multi(econsult_form(clinic)), ("csrf_token", clinic.csrf)],
        allow_redirects=False,
    )

    assert response.status == 303, await response.text()
    row = await conn.fetchrow(
        "SELECT id, urgency, referring_clinician, clinical_context FROM econsults"
    )
    assert row is not None
    assert response.headers["Location"] == f"/spoke/econsults/{row['id']}"
    assert (row["urgency"], row["referring_clinician"]) == ("urgent", "Dr. Lena Park, MD")
    context = row["clinical_context"]
    context = json.loads(context) if isinstance(context, str) else context
    assert context["current_moud"] == {
        "medication": "buprenorphine_naloxone",
        "daily_dose_mg": 16.0,
        "since": "2026-11-02",
    }
    assert (context["phq9"], context["gad7"]) == (18, 12)
    assert context["co_occurring_diagnoses"] == ["Major depressive disorder", "PTSD"]
    assert context["urine_drug_screen"] == {
        "collected_on": "2027-02-26",
        "results": {"fentanyl": "positive", "buprenorphine": "negative"},
    }
    assert context["pain"] == {"present": True, "score": 6, "notes": "Chronic low back pain"}
    assert context["psychosocial_needs"] == ["housing", "transportation"]
    assert context["family_involvement"] == "Sister attends visits"

    page = await (await client.get(response.headers["Location"])).text()
    assert "E-consult sent. The hub answers by" in page
    assert "Buprenorphine/naloxone, 16 mg a day, since 2026-11-02" in page
    assert "Fentanyl: <strong>positive</strong>" in page


async def test_a_bad_phq9_shows_next_to_phq9_and_keeps_every_other_typed_value(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = econsult_form(clinic, **{"clinical_context.phq9": "30"})
    response = await client.post(
        "/spoke/econsults/new",
        data=[*multi(form), ("csrf_token", clinic.csrf)],
        allow_redirects=False,
    )

    assert response.status == 422
    page = await response.text()
    phq9 = field_html(page, "f-clinical_context-phq9")
    assert "must be 27 or less" in phq9 and 'value="30"' in phq9
    assert 'href="#f-clinical_context-phq9">PHQ-9: must be 27 or less</a>' in page
    assert 'value="12"' in field_html(page, "f-clinical_context-gad7")
    assert "Induction strategy with ongoing fentanyl use?</textarea>" in page
    assert '<option value="positive" selected>' in field_html(
        page, "f-clinical_context-urine_drug_screen-results-fentanyl"
    )
    assert 'value="housing" checked' in page and 'value="food" checked' not in page
    assert 'name="clinical_context.pain.present" value="yes" checked' in page
    assert f'<option value="{clinic.patient.id}" selected>' in page
    assert 'name="urgency" value="urgent" checked' in page
    assert await conn.fetchval("SELECT count(*) FROM econsults") == 0

    no_patient = await client.post(
        "/spoke/econsults/new",
        data=[*multi(econsult_form(clinic, patient_id="")), ("csrf_token", clinic.csrf)],
    )
    assert no_patient.status == 422
    assert "is required" in field_html(await no_patient.text(), "f-patient_id")


async def test_answering_the_hubs_question_on_the_page_resumes_the_clock(
    client: TestClient, network: Network, clinic: Clinic, clock: Clock, conn: asyncpg.Connection
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    econsult = await econsult_via_api(client, clinic)
    assert econsult["due_at"] == "2027-03-01T22:00:00Z"
    clock.now = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)  # 6 business hours left
    asked = await client.post(
        f"/api/v1/econsults/{econsult['id']}/messages",
        json={"body": "Current buprenorphine dose?", "asks_clinic": True},
        headers=network.consultant_headers(clinic.consultant.id),
    )
    assert asked.status == 201
    path = f"/spoke/econsults/{econsult['id']}"
    page = await (await client.get(path)).text()
    assert "question for you" in page and "clock is paused" in page
    assert "Your answer to the hub" in page

    clock.now = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # Tuesday 10:00
    empty = await post(client, f"{path}/messages", {"body": ""}, clinic.csrf)
    assert empty.status == 422
    assert "Write your message" in field_html(await empty.text(), "f-body")
    answered = await post(client, f"{path}/messages", {"body": "None yet."}, clinic.csrf)

    assert answered.status == 303
    row = await conn.fetchrow("SELECT status, paused_at, due_at FROM econsults")
    assert row is not None
    assert (row["status"], row["paused_at"]) == ("assigned", None)
    assert row["due_at"] == datetime(2027, 3, 2, 21, 0, tzinfo=UTC)  # Tuesday 16:00 EST
    after = await (await client.get(path)).text()
    assert "Answer sent. The hub&#39;s clock runs again." in after
    assert "None yet." in after and "Tue 2 Mar 2027, 16:00" in after


async def test_the_inbox_acknowledge_and_print_close_the_loop(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    _, note = await signed_note(client, network, clinic)
    inbox = await (await client.get("/spoke/inbox")).text()
    waiting, _, read = inbox.partition("<h2>Acknowledged</h2>")
    assert f"/spoke/notes/{note['id']}" in waiting and "Quimby" in waiting
    assert f"/spoke/notes/{note['id']}" not in read

    page = await (await client.get(f"/spoke/notes/{note['id']}")).text()
    for text in (
        "Severe opioid use disorder",
        "Low-dose buprenorphine initiation",
        "Sertraline 50 mg",
        "Weekly counseling",
        "Re-consult in 4 weeks",
        "A video visit with the patient is recommended",
        f"/spoke/notes/{note['id']}/print",
    ):
        assert text in page
    assert "Acknowledge</button>" in page

    response = await post(client, f"/spoke/notes/{note['id']}/acknowledge", {}, clinic.csrf)

    assert response.status == 303
    assert await conn.fetchval("SELECT count(*) FROM note_acknowledgements") == 1
    assert await conn.fetchval("SELECT status FROM econsults") == "closed"
    after = await (await client.get(response.headers["Location"])).text()
    assert "Acknowledged: the loop is closed." in after and "Acknowledge</button>" not in after
    waiting, _, read = (await (await client.get("/spoke/inbox")).text()).partition(
        "<h2>Acknowledged</h2>"
    )
    assert f"/spoke/notes/{note['id']}" in read and f"/spoke/notes/{note['id']}" not in waiting

    printout = await (await client.get(f"/spoke/notes/{note['id']}/print")).text()
    assert clinic.spoke.name in printout and clinic.patient.mrn in printout
    assert "Quimby" in printout and "Re-consult in 4 weeks" in printout
    assert 'aria-label="Main"' not in printout and "Sign out" not in printout


async def test_an_amended_note_is_marked_and_points_from_the_old_version(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    econsult, first = await signed_note(client, network, clinic)
    hub = network.consultant_headers(clinic.consultant.id)
    amended = await client.post(
        f"/api/v1/econsults/{econsult['id']}/notes",
        json={"sections": {**NOTE, "follow_up": "Re-consult in 2 weeks."}},
        headers=hub,
    )
    assert amended.status == 201, await amended.text()
    second = (await amended.json())["id"]
    assert (await client.post(f"/api/v1/notes/{second}/sign", headers=hub)).status == 200

    new = await (await client.get(f"/spoke/notes/{second}")).text()
    old = await (await client.get(f"/spoke/notes/{first['id']}")).text()
    assert "Amended: version 2" in new and "Re-consult in 2 weeks." in new
    assert f'<a href="/spoke/notes/{second}">read version 2</a>' in old


async def test_a_recommended_visit_is_booked_from_the_econsult_page(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    econsult, _ = await signed_note(client, network, clinic)
    path = f"/spoke/econsults/{econsult['id']}"
    page = await (await client.get(path)).text()
    value = f"{clinic.video.id}|2027-03-08T17:00:00Z"
    assert f'<option value="{value}">Mon 8 Mar 2027, 12:00 · Video visit</option>' in page

    response = await post(
        client,
        f"{path}/visit",
        {"visit": value, "consultant_id": clinic.consultant.id},
        clinic.csrf,
    )

    assert response.status == 303
    row = await conn.fetchrow("SELECT id, reason, lower(period) AS start FROM bookings")
    assert row is not None and response.headers["Location"] == f"/spoke/bookings/{row['id']}"
    assert row["reason"] == (
        f"Visit recommended by {clinic.consultant.name}'s e-consult note of Mon 1 Mar 2027"
    )
    assert row["start"] == datetime(2027, 3, 8, 17, 0, tzinfo=UTC)
    unchosen = await post(
        client, f"{path}/visit", {"visit": "", "consultant_id": clinic.consultant.id}, clinic.csrf
    )
    assert unchosen.status == 422
    assert "Choose a time for the visit" in await unchosen.text()


async def test_the_econsult_list_shows_status_and_marks_past_due_in_clinic_time(
    client: TestClient, clinic: Clinic, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    econsult = await econsult_via_api(client, clinic)
    on_time = await (await client.get("/spoke/econsults")).text()
    assert f"/spoke/econsults/{econsult['id']}" in on_time
    assert "Mon 1 Mar 2027, 17:00" in on_time  # due 22:00 UTC is 17:00 in New York
    assert "past due" not in on_time

    clock.now = datetime(2027, 3, 2, 14, 0, tzinfo=UTC)
    late = await (await client.get("/spoke/econsults")).text()
    assert '<span class="tag overdue">past due</span>' in late
