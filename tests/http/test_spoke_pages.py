"""The clinic's booking pages: find a time, book, reschedule, cancel; who may open the pages."""

from __future__ import annotations

import re
from datetime import UTC, datetime, time
from html import unescape

import asyncpg
from aiohttp.test_utils import TestClient

from tests import factories
from tests.factories import Network, page_csrf, sign_in
from tests.http.spoke_support import (
    Clinic,
    book_via_api,
    field_html,
    grid_of,
    post,
    signed_note,
)


async def test_every_clinic_page_answers_200_to_its_scheduler(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    booking = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")
    econsult, note = await signed_note(client, network, clinic)
    pages = [
        "/spoke",
        "/spoke/find",
        f"/spoke/book?service_id={clinic.video.id}&consultant_id={clinic.consultant.id}"
        "&start=2027-03-08T18:00:00Z",
        "/spoke/patients/new",
        f"/spoke/bookings/{booking['id']}",
        "/spoke/econsults",
        "/spoke/econsults/new",
        f"/spoke/econsults/{econsult['id']}",
        "/spoke/inbox",
        f"/spoke/notes/{note['id']}",
        f"/spoke/notes/{note['id']}/print",
    ]
    statuses = {path: (await client.get(path)).status for path in pages}
    assert statuses == dict.fromkeys(pages, 200)


async def test_the_week_grid_shows_a_los_angeles_morning_at_new_york_time(
    client: TestClient, clinic: Clinic
) -> None:
    response = await client.get("/spoke/find", params={"service_id": clinic.video.id})
    assert response.status == 200
    page = unescape(await response.text())
    # Monday 1 March: LA 09:00-12:00 is 12:00-15:00 in New York; it is 10:00 there now.
    assert "Mon<br>1 Mar" in page and "Sun<br>7 Mar" in page
    starts = re.findall(r"start=([0-9T:\-]+Z)", page)
    assert starts == ["2027-03-01T17:00:00Z", "2027-03-01T18:00:00Z", "2027-03-01T19:00:00Z"]
    times = re.findall(r"<strong>(\d\d:\d\d)</strong>", page)
    assert times == ["12:00", "13:00", "14:00"]
    assert "09:00" not in page
    assert clinic.consultant.name in page


async def test_previous_and_next_week_links_move_the_grid_and_keep_the_filters(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    other = await network.consultant([clinic.video], hours=((1, time(9), time(10)),))
    filters = {
        "service_id": clinic.video.id,
        "consultant_id": clinic.consultant.id,
        "patient_state": "NY",
    }
    first = unescape(await (await client.get("/spoke/find", params=filters)).text())
    next_link = re.search(r'href="([^"]+)" rel="next"', first)
    assert next_link is not None
    assert f"consultant_id={clinic.consultant.id}" in next_link.group(1)
    assert "patient_state=NY" in next_link.group(1) and "week=2027-03-08" in next_link.group(1)

    second = unescape(await (await client.get(next_link.group(1))).text())
    assert "Mon<br>8 Mar" in second
    # The clocks change on 14 March: the week after, LA 09:00 is 16:00 UTC, still 12:00 in NY.
    assert re.findall(r"start=([0-9T:\-]+Z)", second)[0] == "2027-03-08T17:00:00Z"
    assert other.name not in grid_of(second)  # filtered to one consultant
    third_link = re.search(r'href="([^"]+)" rel="next"', second)
    assert third_link is not None
    third = unescape(await (await client.get(third_link.group(1))).text())
    assert re.findall(r"start=([0-9T:\-]+Z)", third)[0] == "2027-03-15T16:00:00Z"
    assert re.findall(r"<strong>(\d\d:\d\d)</strong>", third)[0] == "12:00"

    back_link = re.search(r'href="([^"]+)" rel="prev"', second)
    assert back_link is not None and "week=2027-03-01" in back_link.group(1)
    back = unescape(await (await client.get(back_link.group(1))).text())
    assert "Mon<br>1 Mar" in back

    everyone = unescape(
        await (
            await client.get(
                "/spoke/find", params={"service_id": clinic.video.id, "week": "2027-03-10"}
            )
        ).text()
    )
    assert "Mon<br>8 Mar" in everyone  # any day picks its week
    assert other.name in grid_of(everyone)


async def test_a_late_sunday_slot_belongs_to_the_clinics_week_not_the_utc_week(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    night = await network.consultant(
        [clinic.video], timezone="America/New_York", hours=((6, time(21), time(23)),)
    )
    params = {"service_id": clinic.video.id, "consultant_id": night.id}
    this_week = unescape(await (await client.get("/spoke/find", params=params)).text())
    next_week = unescape(
        await (await client.get("/spoke/find", params={**params, "week": "2027-03-08"})).text()
    )
    # Sunday 7 March 21:00 in New York is already Monday 8 March 02:00 UTC.
    sunday = grid_of(this_week).split("</td>")[6]
    assert re.findall(r"start=([0-9T:\-]+Z)", sunday) == [
        "2027-03-08T02:00:00Z",
        "2027-03-08T03:00:00Z",
    ]
    assert re.findall(r"<strong>(\d\d:\d\d)</strong>", sunday) == ["21:00", "22:00"]
    assert "2027-03-08T02:00:00Z" not in next_week


async def test_the_week_grid_can_ask_for_any_consultant_of_one_role(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    counselor = await network.consultant(
        [clinic.video], hours=((0, time(9), time(10)),), role="telehealth_counselor"
    )
    params = {"service_id": clinic.video.id, "week": "2027-03-08"}
    counselors = grid_of(
        await (
            await client.get("/spoke/find", params={**params, "role": "telehealth_counselor"})
        ).text()
    )
    assert counselor.name in counselors and clinic.consultant.name not in counselors
    bad = await (await client.get("/spoke/find", params={**params, "role": "wizard"})).text()
    assert "choose one of the options listed" in field_html(bad, "f-role")


async def test_a_booking_link_that_names_no_time_says_so_and_offers_the_grid(
    client: TestClient, clinic: Clinic
) -> None:
    response = await client.get("/spoke/book", params={"service_id": "x", "start": "soon"})
    assert response.status == 200
    page = await response.text()
    assert "This link does not name a time to book" in page
    assert 'href="/spoke/find"' in page and 'action="/spoke/book"' not in page


async def test_a_slot_links_to_the_booking_step_and_a_get_books_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    page = unescape(await (await client.get("/spoke/find")).text())
    link = re.search(r'href="(/spoke/book\?[^"]+)"', page)
    assert link is not None
    step = await client.get(link.group(1) + f"&mrn={clinic.patient.mrn}")
    text = await step.text()
    assert step.status == 200
    assert "Mon 1 Mar 2027, 12:00\u201313:00" in text
    assert "Quimby" in text and 'name="patient_id"' in text
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0


async def test_booking_through_the_form_creates_the_booking_and_shows_it(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    response = await post(
        client,
        "/spoke/book",
        {
            "patient_id": str(clinic.patient.id),
            "service_id": clinic.video.id,
            "consultant_id": clinic.consultant.id,
            "start": "2027-03-08T17:00:00Z",
            "reason": "Buprenorphine follow-up",
        },
        clinic.csrf,
    )
    assert response.status == 303
    row = await conn.fetchrow(
        "SELECT id, patient_id, consultant_id, lower(period) AS start, reason, status FROM bookings"
    )
    assert row is not None
    assert (row["patient_id"], row["consultant_id"]) == (clinic.patient.id, clinic.consultant.id)
    assert row["start"] == datetime(2027, 3, 8, 17, 0, tzinfo=UTC)
    assert (row["reason"], row["status"]) == ("Buprenorphine follow-up", "booked")
    assert response.headers["Location"] == f"/spoke/bookings/{row['id']}"

    shown = await (await client.get(response.headers["Location"])).text()
    assert "Booked for Mon 8 Mar 2027, 12:00." in shown  # the notice, in clinic time
    assert "Mon 8 Mar 2027, 12:00\u201313:00" in shown
    assert "Quimby" in shown and "https://" in shown  # the patient and the video link
    dashboard = await (await client.get("/spoke")).text()
    assert f"/spoke/bookings/{row['id']}" in dashboard


async def test_a_time_taken_meanwhile_says_so_books_nothing_and_links_to_another_time(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    rival = await network.spoke()
    rival_patient = await network.patient(rival)
    await factories.booking(
        client,
        rival,
        service_id=clinic.video.id,
        consultant_id=clinic.consultant.id,
        patient_id=rival_patient.id,
        start="2027-03-08T17:00:00Z",
    )
    form = {
        "patient_id": str(clinic.patient.id),
        "service_id": clinic.video.id,
        "consultant_id": clinic.consultant.id,
        "start": "2027-03-08T17:00:00Z",
        "reason": "Keep me",
    }

    response = await post(client, "/spoke/book", form, clinic.csrf)

    assert response.status == 409
    page = unescape(await response.text())
    assert "Someone booked this time a moment ago" in page
    assert "/spoke/find?service_id=" in page and "week=2027-03-08" in page
    assert "reason=Keep+me" in page  # what was typed comes along to another time
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1

    closed = await post(
        client, "/spoke/book", {**form, "start": "2027-03-08T17:30:00Z"}, clinic.csrf
    )
    assert closed.status == 422
    assert "This time is not open any more" in await closed.text()
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1


async def test_an_unknown_mrn_offers_to_add_the_patient_who_is_then_chosen_for_the_slot(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    slot = {
        "service_id": str(clinic.video.id),
        "consultant_id": str(clinic.consultant.id),
        "start": "2027-03-08T18:00:00Z",
    }
    missing = await (await client.get("/spoke/book", params={**slot, "mrn": "NEW-77"})).text()
    assert "No patient with MRN <strong>NEW-77</strong>" in missing
    assert 'id="f-mrn" name="mrn" type="text" value="NEW-77"' in missing

    added = await post(
        client,
        "/spoke/patients",
        {
            **slot,
            "mrn": "NEW-77",
            "given_name": "Ada",
            "family_name": "Okafor",
            "birth_date": "1990-05-04",
            "state": "VT",
            "phone": "",
            "email": "",
        },
        clinic.csrf,
    )

    assert added.status == 303
    patient_id = await conn.fetchval("SELECT id FROM patients WHERE mrn = 'NEW-77'")
    assert patient_id is not None
    location = added.headers["Location"]
    assert location.startswith("/spoke/book?") and f"patient_id={patient_id}" in location
    step = await (await client.get(location)).text()
    assert "Added Ada Okafor (NEW-77)." in step
    assert f'name="patient_id" value="{patient_id}"' in step
    assert "Book Mon 8 Mar 2027, 13:00" in step


async def test_a_patient_form_error_shows_next_to_its_field_and_keeps_what_was_typed(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    response = await post(
        client,
        "/spoke/patients",
        {
            "service_id": str(clinic.video.id),
            "consultant_id": str(clinic.consultant.id),
            "start": "2027-03-08T18:00:00Z",
            "mrn": "NEW-78",
            "given_name": "Ada",
            "family_name": "Okafor",
            "birth_date": "1800-01-01",
            "state": "VT",
        },
        clinic.csrf,
    )

    assert response.status == 422
    page = await response.text()
    birth = field_html(page, "f-birth_date")
    assert "must be a date between 1900-01-01 and today" in birth
    assert 'aria-invalid="true"' in birth and 'value="1800-01-01"' in birth
    assert 'value="Ada"' in field_html(page, "f-given_name")
    assert 'href="#f-birth_date"' in page  # the summary links to the field
    assert await conn.fetchval("SELECT count(*) FROM patients WHERE mrn = 'NEW-78'") == 0

    twice = await post(
        client,
        "/spoke/patients",
        {
            "mrn": clinic.patient.mrn,
            "given_name": "Same",
            "family_name": "Number",
            "birth_date": "1990-01-01",
            "state": "VT",
        },
        clinic.csrf,
    )
    assert twice.status == 409
    assert "has a patient with this MRN already" in field_html(await twice.text(), "f-mrn")


async def test_rescheduling_moves_the_booking_to_an_open_time_the_page_offers(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")
    path = f"/spoke/bookings/{booking['id']}"
    page = await (await client.get(path)).text()
    assert '<option value="2027-03-08T18:00:00Z">Mon 8 Mar 2027, 13:00</option>' in page

    response = await post(
        client, f"{path}/reschedule", {"start": "2027-03-08T18:00:00Z"}, clinic.csrf
    )

    assert response.status == 303 and response.headers["Location"] == path
    row = await conn.fetchrow("SELECT lower(period) AS start, sequence FROM bookings")
    assert row is not None
    assert row["start"] == datetime(2027, 3, 8, 18, 0, tzinfo=UTC)
    assert row["sequence"] > booking["sequence"]
    assert "Rescheduled to Mon 8 Mar 2027, 13:00." in await (await client.get(path)).text()


async def test_a_reschedule_without_a_time_or_to_a_closed_time_says_so_and_moves_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")
    path = f"/spoke/bookings/{booking['id']}"

    empty = await post(client, f"{path}/reschedule", {"start": ""}, clinic.csrf)
    closed = await post(
        client, f"{path}/reschedule", {"start": "2027-03-08T03:00:00Z"}, clinic.csrf
    )

    assert empty.status == 422
    assert "is required" in field_html(await empty.text(), "f-start")
    assert closed.status == 422
    assert "not open any more" in field_html(await closed.text(), "f-start")
    start = await conn.fetchval("SELECT lower(period) FROM bookings")
    assert start == datetime(2027, 3, 8, 17, 0, tzinfo=UTC)


async def test_cancelling_needs_a_reason_and_keeps_the_row_with_it(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")
    path = f"/spoke/bookings/{booking['id']}"

    no_reason = await post(client, f"{path}/cancel", {"reason": "  "}, clinic.csrf)
    assert no_reason.status == 422
    assert "Say why the session is cancelled" in field_html(await no_reason.text(), "f-reason")
    assert await conn.fetchval("SELECT status FROM bookings") == "booked"

    done = await post(
        client, f"{path}/cancel", {"reason": "Patient in hospital", "confirmed": "yes"}, clinic.csrf
    )
    assert done.status == 303
    row = await conn.fetchrow("SELECT status, cancel_reason FROM bookings")
    assert row is not None and tuple(row) == ("cancelled", "Patient in hospital")
    page = await (await client.get(path)).text()
    assert "Cancelled. The time is open to others again." in page
    assert "Patient in hospital" in page and "/reschedule" not in page

    again = await post(
        client, f"{path}/cancel", {"reason": "twice", "confirmed": "yes"}, clinic.csrf
    )
    assert again.status == 409
    assert "can no longer change" in await again.text()


async def test_another_clinics_user_gets_404_for_this_clinics_pages_and_changes_nothing(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    booking = await book_via_api(client, clinic, "2027-03-08T17:00:00Z")
    econsult, note = await signed_note(client, network, clinic)
    other = await network.spoke()
    email, password = await network.user("spoke_clinician", spoke_id=other.id)
    client.session.cookie_jar.clear()
    await sign_in(client, email, password)
    csrf = await page_csrf(client, "/spoke")

    reads = [
        f"/spoke/bookings/{booking['id']}",
        f"/spoke/econsults/{econsult['id']}",
        f"/spoke/notes/{note['id']}",
        f"/spoke/notes/{note['id']}/print",
        f"/spoke/book?service_id={clinic.video.id}&consultant_id={clinic.consultant.id}"
        f"&start=2027-03-08T18:00:00Z&patient_id={clinic.patient.id}",
    ]
    writes = [
        (f"/spoke/bookings/{booking['id']}/cancel", {"reason": "not yours"}),
        (f"/spoke/bookings/{booking['id']}/reschedule", {"start": "2027-03-08T18:00:00Z"}),
        (f"/spoke/econsults/{econsult['id']}/messages", {"body": "hello"}),
        (f"/spoke/notes/{note['id']}/acknowledge", {}),
    ]
    assert [(await client.get(p)).status for p in reads] == [404] * len(reads)
    assert [(await post(client, p, d, csrf)).status for p, d in writes] == [404] * len(writes)
    assert await conn.fetchval("SELECT status FROM bookings") == "booked"
    assert await conn.fetchval("SELECT count(*) FROM econsult_messages") == 0
    assert await conn.fetchval("SELECT count(*) FROM note_acknowledgements") == 0
    listing = await (await client.get("/spoke/econsults")).text()
    assert econsult["id"] not in listing and "Quimby" not in listing


async def test_a_form_post_without_its_csrf_token_is_refused_and_books_nothing(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = {
        "patient_id": str(clinic.patient.id),
        "service_id": clinic.video.id,
        "consultant_id": clinic.consultant.id,
        "start": "2027-03-08T17:00:00Z",
    }
    forged = await client.post("/spoke/book", data=form, allow_redirects=False)
    assert forged.status == 403
    assert "did not come from Telehub" in await forged.text()
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 0
    assert (await post(client, "/spoke/book", form, clinic.csrf)).status == 303


async def test_the_pages_ask_for_sign_in_and_refuse_hub_staff(
    client: TestClient, network: Network
) -> None:
    anonymous = await client.get("/spoke/find", allow_redirects=False)
    assert anonymous.status == 303 and anonymous.headers["Location"].startswith("/signin?next=")
    email, password = await network.user("hub_coordinator")
    await sign_in(client, email, password)
    assert (await client.get("/spoke/inbox")).status == 403
