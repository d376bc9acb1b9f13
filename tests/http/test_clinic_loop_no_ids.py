"""The clinic's loop pages read as words: no internal ids, one date format, one clock."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.spoke_support import Clinic, post, signed_note

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
TWELVE_HOUR = re.compile(r"\d\s?(AM|PM|am|pm)\b")


class _Text(HTMLParser):
    """What a person reads on a page: its text, without tags, attributes, styles or scripts."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []
        self._hidden = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._hidden += tag in ("script", "style")

    def handle_endtag(self, tag: str) -> None:
        self._hidden -= tag in ("script", "style")

    def handle_data(self, data: str) -> None:
        if not self._hidden:
            self.parts.append(data)


def text_of(page: str) -> str:
    """The readable text of a page."""
    parser = _Text()
    parser.feed(page)
    return " ".join(" ".join(parser.parts).split())


async def test_a_visit_booked_from_an_econsult_says_whose_note_of_which_day(
    client: TestClient, network: Network, clinic: Clinic, conn: asyncpg.Connection
) -> None:
    econsult, _ = await signed_note(client, network, clinic)
    path = f"/spoke/econsults/{econsult['id']}"
    value = f"{clinic.video.id}|2027-03-08T17:00:00Z"

    booked = await post(
        client,
        f"{path}/visit",
        {"visit": value, "consultant_id": clinic.consultant.id},
        clinic.csrf,
    )

    assert booked.status == 303
    reason = await conn.fetchval("SELECT reason FROM bookings")
    assert reason == (
        f"Visit recommended by {clinic.consultant.name}'s e-consult note of Mon 1 Mar 2027"
    )
    assert not UUID.search(reason)
    visit_page = text_of(await (await client.get(booked.headers["Location"])).text())
    assert not UUID.search(visit_page)
    after = await (await client.get(path)).text()
    assert "Booked for <strong>Mon 8 Mar 2027, 12:00</strong>" in after
    assert "Book the visit</button>" not in after


async def test_the_loop_pages_show_no_raw_ids_and_times_on_the_24_hour_clock(
    client: TestClient, network: Network, clinic: Clinic
) -> None:
    econsult, note = await signed_note(client, network, clinic)
    await post(
        client,
        f"/spoke/econsults/{econsult['id']}/visit",
        {"visit": f"{clinic.video.id}|2027-03-08T17:00:00Z", "consultant_id": clinic.consultant.id},
        clinic.csrf,
    )
    await client.post(
        f"/api/v1/econsults/{econsult['id']}/messages",
        json={"body": "One more thing: any sedatives?", "asks_clinic": True},
        headers=network.consultant_headers(clinic.consultant.id),
    )
    paths = [
        "/",
        "/spoke",
        "/spoke/econsults",
        "/spoke/econsults?show=waiting",
        "/spoke/econsults/new",
        f"/spoke/econsults/{econsult['id']}",
        "/spoke/inbox",
        f"/spoke/notes/{note['id']}",
        f"/spoke/notes/{note['id']}/print",
    ]

    for path in paths:
        response = await client.get(path)
        assert response.status == 200, path
        shown = text_of(await response.text())
        assert not UUID.search(shown), (path, UUID.search(shown))
        assert not TWELVE_HOUR.search(shown), (path, TWELVE_HOUR.search(shown))
        assert "America/New_York" not in shown, path
