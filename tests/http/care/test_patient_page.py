"""The patient page: who the patient is, sessions to come and past with their outcome,
e-consults and notes linked to their pages, and what to do next for the patient."""

from __future__ import annotations

import re
import uuid

from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.care.support import Record


def section(page: str, heading_id: str) -> str:
    """The part of a page from the <h2> with this id to the next <h2>."""
    start = page.index(f'<h2 id="{heading_id}">')
    end = page.find("<h2", start + 1)
    return page[start : end if end >= 0 else None]


def links(html: str) -> list[str]:
    """Every link's target, as a browser reads it."""
    return [h.replace("&amp;", "&") for h in re.findall(r'href="([^"]+)"', html)]


async def test_the_page_shows_who_the_patient_is_without_internal_ids(
    client: TestClient, record: Record
) -> None:
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    assert "<h1>Quimby, " + record.patient.given_name + "</h1>" in page
    assert record.patient.mrn in page
    assert "1980-01-01" in page
    text_only = re.sub(r"<[^>]+>", " ", page)
    assert str(record.patient.id) not in text_only


async def test_upcoming_sessions_come_soonest_first_with_their_status(
    client: TestClient, record: Record
) -> None:
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    upcoming = section(page, "upcoming")
    targets = [t for t in links(upcoming) if "/spoke/bookings/" in t]
    assert targets == [
        f"/spoke/bookings/{record.soon['id']}",
        f"/spoke/bookings/{record.cancelled['id']}",
        f"/spoke/bookings/{record.later['id']}",
    ]
    assert "Mon 8 Mar 2027, 12:00" in upcoming  # 17:00Z in New York
    assert "Cancelled" in upcoming and "Booked" in upcoming
    assert "Counseling session" in upcoming


async def test_past_sessions_come_newest_first_with_their_outcome(
    client: TestClient, record: Record
) -> None:
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    past = section(page, "past")
    assert [t for t in links(past) if "/spoke/bookings/" in t] == [
        f"/spoke/bookings/{record.done}",
        f"/spoke/bookings/{record.unrecorded}",
    ]
    rows = past.split("<tr>")[2:]
    assert "Completed" in rows[0]
    assert "not recorded yet" in rows[1]
    assert f"/spoke/bookings?patient_id={record.patient.id}" in links(past)


async def test_econsults_and_notes_link_to_their_pages_newest_first(
    client: TestClient, record: Record
) -> None:
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    econsults = section(page, "econsults")
    assert links(econsults) == [
        f"/spoke/econsults/{record.second_econsult['id']}",
        f"/spoke/econsults/{record.first_econsult['id']}",
    ]
    assert econsults.index("Taper plan?") < econsults.index("Which induction?")
    notes = section(page, "notes")
    assert links(notes) == [f"/spoke/notes/{record.note['id']}"]
    assert "to acknowledge" in notes


async def test_the_actions_book_ask_the_hub_and_book_a_series_where_the_app_has_it(
    client: TestClient, record: Record
) -> None:
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()

    actions = page[page.index('aria-label="For this patient"') :]
    actions = actions[: actions.index("</nav>")]
    targets = links(actions)
    pid = record.patient.id
    assert f"/spoke/find?patient_id={pid}&patient_state=VT" in targets
    assert f"/spoke/econsults/new?patient_id={pid}" in targets
    has_series = "spoke_series_new" in client.app.router
    series = [t for t in targets if "patient_id" in t and "/series" in t]
    assert bool(series) == has_series
    if has_series:
        expected = client.app.router["spoke_series_new"].url_for().with_query(patient_id=str(pid))
        assert series == [str(expected)]


async def test_without_the_series_page_there_is_no_series_link(
    client: TestClient, record: Record
) -> None:
    app: web.Application = client.app
    if "spoke_series_new" in app.router:
        return  # the other branch of the test above covers the link
    page = await (await client.get(f"/spoke/patients/{record.patient.id}")).text()
    assert "Book a series" not in page


async def test_another_clinics_patient_and_an_unknown_one_are_not_found(
    client: TestClient, network: Network, record: Record
) -> None:
    rival = await network.spoke()
    theirs = await network.patient(rival)

    assert (await client.get(f"/spoke/patients/{theirs.id}")).status == 404
    assert (await client.get(f"/spoke/patients/{uuid.uuid4()}")).status == 404
    assert (await client.get("/spoke/patients/not-an-id")).status == 404


async def test_the_booking_page_and_the_dashboard_link_the_patients_name_here(
    client: TestClient, record: Record
) -> None:
    here = f"/spoke/patients/{record.patient.id}"

    booking = await (await client.get(f"/spoke/bookings/{record.soon['id']}")).text()
    dashboard = await (await client.get("/spoke")).text()

    assert here in links(booking)
    assert here in links(dashboard)
