"""The clinic's dashboard: the hub's questions, counts that link to what they count."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, econsult
from tests.http.spoke_support import Clinic, post


async def ask(client: TestClient, network: Network, c: Clinic, **fields: Any) -> dict[str, Any]:
    """An e-consult from the clinic, with its own question."""
    return await econsult(
        client, c.spoke, patient_id=c.patient.id, service_id=c.econsult.id, **fields
    )


async def hub_says(
    client: TestClient, network: Network, c: Clinic, econsult_id: str, body: str, asks: bool
) -> None:
    """A message from the consultant in the e-consult's thread (a question, when `asks`)."""
    response = await client.post(
        f"/api/v1/econsults/{econsult_id}/messages",
        json={"body": body, "asks_clinic": asks},
        headers=network.consultant_headers(c.consultant.id),
    )
    assert response.status == 201, await response.text()


def section(page: str, heading: str) -> str:
    """The part of a page from an <h2> to the next one."""
    start = page.index(f"<h2>{heading}</h2>")
    end = page.find("<h2", start + 1)
    return page[start : end if end >= 0 else None]


def card_links(page: str) -> dict[str, str]:
    """The dashboard's counts: what each counts, and where its link goes."""
    cards = re.findall(
        r'<a class="card" href="([^"]+)"><span class="big">\d+</span> ([^<]+)</a>', page
    )
    return {what: href.replace("&amp;", "&") for href, what in cards}


async def test_the_hub_asked_you_shows_the_hubs_latest_question_not_the_clinics_own(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    e = await ask(client, network, clinic, question="Which induction with fentanyl use?")
    path = f"/spoke/econsults/{e['id']}/messages"
    assert (
        await post(client, path, {"body": "Patient prefers mornings."}, clinic.csrf)
    ).status == 303
    await hub_says(client, network, clinic, e["id"], "Reviewing the screen now.", asks=False)
    await hub_says(client, network, clinic, e["id"], "What is the current daily dose?", asks=True)

    page = await (await client.get("/spoke")).text()

    asked = section(page, "The hub asked you")
    assert "What is the current daily dose?" in asked
    assert "Which induction with fentanyl use?" not in asked
    assert "Patient prefers mornings." not in asked
    assert "Reviewing the screen now." not in asked
    assert f'href="/spoke/econsults/{e["id"]}"' in asked


async def test_each_count_links_to_the_list_of_what_it_counts(
    client: TestClient, network: Network, clinic: Clinic, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 09:00 in New York
    late = await ask(client, network, clinic, question="Late one?")
    waiting = await ask(client, network, clinic, question="Waiting one?")
    await hub_says(client, network, clinic, waiting["id"], "Which dose?", asks=True)
    clock.now = datetime(2027, 3, 3, 14, 0, tzinfo=UTC)  # two days on: the first is past due

    page = await (await client.get("/spoke")).text()

    links = card_links(page)
    assert links == {
        "sessions today": "#today",
        "consult notes to acknowledge": "/spoke/inbox",
        "e-consult past due": "/spoke/econsults?show=past_due",
        "e-consult waiting on your answer": "/spoke/econsults?show=waiting",
    }
    assert 'id="today"' in page
    past_due = await (await client.get(links["e-consult past due"])).text()
    assert f"/spoke/econsults/{late['id']}" in past_due
    assert f"/spoke/econsults/{waiting['id']}" not in past_due
    on_us = await (await client.get(links["e-consult waiting on your answer"])).text()
    assert f"/spoke/econsults/{waiting['id']}" in on_us
    assert f"/spoke/econsults/{late['id']}" not in on_us
    everything = await (await client.get("/spoke/econsults")).text()
    assert f"/spoke/econsults/{late['id']}" in everything
    assert f"/spoke/econsults/{waiting['id']}" in everything


async def test_the_question_for_you_tag_goes_once_the_clinic_has_answered(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    e = await ask(client, network, clinic)
    page_path = f"/spoke/econsults/{e['id']}"
    await hub_says(client, network, clinic, e["id"], "Current dose?", asks=True)
    assert (await (await client.get(page_path)).text()).count("question for you") == 1

    answered = await post(client, f"{page_path}/messages", {"body": "16 mg."}, clinic.csrf)
    assert answered.status == 303
    after = await (await client.get(page_path)).text()

    assert "question for you" not in after
    assert "Current dose?" in after
    dashboard = await (await client.get("/spoke")).text()
    assert "The hub asked you" not in dashboard

    await hub_says(client, network, clinic, e["id"], "Any sedatives?", asks=True)
    again = await (await client.get(page_path)).text()
    tagged = re.findall(r"question for you</span></p>\s*<div[^>]*>([^<]*)</div>", again)
    assert tagged == ["Any sedatives?"]
