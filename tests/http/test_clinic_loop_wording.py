"""The clinic's loop pages: titles, navigation, one date format, errors in form order."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import NOTE_SECTIONS, Clock, Network, econsult, signed_note
from tests.http.spoke_support import Clinic, econsult_form, multi


def title_of(page: str) -> str:
    """The text of a page's <title>."""
    found = re.search(r"<title>(.*?)</title>", page, re.S)
    assert found is not None
    return found.group(1).strip()


async def test_the_home_page_is_titled_telehub_once(client: TestClient) -> None:
    page = await (await client.get("/")).text()

    assert title_of(page) == "Telehub"


async def test_a_page_with_its_own_title_names_it_before_telehub(
    client: TestClient, clinic: Clinic
) -> None:
    page = await (await client.get("/spoke/econsults")).text()

    assert title_of(page) == "E-consults · Telehub"


async def test_the_clinics_menu_links_its_pages_and_marks_the_current_one(
    client: TestClient, clinic: Clinic
) -> None:
    page = await (await client.get("/spoke/inbox")).text()

    nav = page[page.index('<nav aria-label="Main">') : page.index("</nav>")]
    assert re.findall(r'href="([^"]+)"', nav) == [
        "/spoke",
        "/spoke/find",
        "/spoke/bookings",
        "/spoke/groups",
        "/spoke/econsults",
        "/spoke/inbox",
        "/spoke/registry",
    ]
    assert '<a href="/spoke/inbox" aria-current="page">Consult notes</a>' in nav
    assert '<a href="/spoke" class="brand">Telehub</a>' in page


async def test_sending_an_econsult_says_when_it_is_due_in_the_one_date_format(
    client: TestClient, clinic: Clinic, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    form = econsult_form(clinic, urgency="routine")

    sent = await client.post(
        "/spoke/econsults/new", data=[*multi(form), ("csrf_token", clinic.csrf)]
    )

    page = await sent.text()
    assert "E-consult sent. The hub answers by Mon 1 Mar 2027, 17:00." in page


async def test_the_econsult_forms_error_summary_lists_fields_top_to_bottom(
    client: TestClient, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    form = econsult_form(
        clinic,
        patient_id="",
        question="",
        **{
            "clinical_context.phq9": "30",
            "clinical_context.pain.score": "11",
            "clinical_context.current_moud.daily_dose_mg": "-1",
        },
    )

    response = await client.post(
        "/spoke/econsults/new", data=[*multi(form), ("csrf_token", clinic.csrf)]
    )

    assert response.status == 422
    page = await response.text()
    start = page.index('class="error-summary"')
    summary = page[start : page.index("</ul>", start)]
    named = re.findall(r'<a href="#f-[^"]+">([^:<]+):', summary)
    assert named == ["Patient", "Your question", "MOUD daily dose", "PHQ-9", "Pain score"]
    assert await conn.fetchval("SELECT count(*) FROM econsults") == 0


async def test_the_inbox_says_an_amended_note_is_its_version_in_words(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    e = await econsult(
        client, clinic.spoke, patient_id=clinic.patient.id, service_id=clinic.econsult.id
    )
    hub = network.consultant_headers(clinic.consultant.id)
    await signed_note(client, hub, e["id"])
    await signed_note(client, hub, e["id"], {**NOTE_SECTIONS, "follow_up": "In 2 weeks."})

    page = await (await client.get("/spoke/inbox")).text()

    assert '<span class="tag">amended, version 2</span>' in page
    assert "v2" not in page
