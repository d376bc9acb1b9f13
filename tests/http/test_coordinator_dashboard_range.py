"""The program dashboard covers the days the coordinator chooses (the last 8 weeks unless told)."""

from __future__ import annotations

import re
from datetime import timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import booking_store
from scheduling.slots import Period
from tests.factories import Network
from tests.http.coordinator_support import coordinator, tables, utc


def _inputs(html: str) -> dict[str, str]:
    """The date inputs of the range form, by name, with their values."""
    return dict(re.findall(r'name="(since|until)" type="date" value="([^"]*)"', html))


async def test_the_dashboard_shows_the_last_8_weeks_unless_told_and_says_which_days(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)  # Monday 1 March 2027; the hub is in New York
    html = await (await client.get("/coordinator")).text()
    assert _inputs(html) == {"since": "2027-01-11", "until": "2027-03-07"}
    assert "From Mon 11 Jan 2027 to Sun 7 Mar 2027" in html
    for table in ("table-capacity", "table-no-show"):
        weeks = [row[0] for row in tables(html)[table][1:]]
        assert len(weeks) == 8 and weeks[0] == "Mon 11 Jan 2027" and weeks[-1] == "Mon 1 Mar 2027"


async def test_a_chosen_range_applies_to_every_table_cut_to_its_days(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    video = await network.service(duration_minutes=60)
    doctor = await network.consultant([video])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    # Tuesday 2 March (outside), Thursday 4 March and Monday 8 March (inside).
    for start in (utc(3, 2, 17), utc(3, 4, 17), utc(3, 8, 17)):
        hour = Period(start, start + timedelta(hours=1))
        await booking_store.insert_booking(
            conn,
            service_id=video.id,
            consultant_id=doctor.id,
            spoke_id=spoke.id,
            patient_id=patient.id,
            period=hour,
            blocked=hour,
            reason="",
            video_link=None,
            created_by="test",
        )
    await coordinator(client, network)
    response = await client.get("/coordinator?since=2027-03-03&until=2027-03-09")
    assert response.status == 200
    html = await response.text()
    assert _inputs(html) == {"since": "2027-03-03", "until": "2027-03-09"}
    capacity = tables(html)["table-capacity"][1:]
    assert [(row[0], row[2]) for row in capacity] == [
        ("Wed 3 Mar 2027", "1"),
        ("Mon 8 Mar 2027", "1"),
    ]
    assert [row[0] for row in tables(html)["table-no-show"][1:]] == [
        "Wed 3 Mar 2027",
        "Mon 8 Mar 2027",
    ]
    # Only a From date: 8 weeks from it.
    later = await (await client.get("/coordinator?since=2027-03-08")).text()
    assert _inputs(later) == {"since": "2027-03-08", "until": "2027-05-02"}


async def test_a_range_that_cannot_be_shown_is_refused_saying_what_to_fix(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    refusals = {
        "since=2027-03-09&until=2027-03-01": "To: must be on or after the From date",
        "since=2027-02-30": "From: must be a date, like 2027-03-01",
        "since=2024-01-01&until=2027-01-01": "To: must be within 2 years of the From date",
        "until=9999-12-31": "To: must be a date between the years 2000 and 2100",
    }
    for query, words in refusals.items():
        response = await client.get(f"/coordinator?{query}")
        assert response.status == 422, query
        html = await response.text()
        assert words in html, (query, words)
        assert "Showing the last 8 weeks until the dates are fixed." in html
        # What was typed stays in the boxes; the tables show the last 8 weeks meanwhile.
        typed = dict(part.split("=") for part in query.split("&"))
        assert {k: v for k, v in _inputs(html).items() if v} == typed
        assert len(tables(html)["table-capacity"]) == 1 + 8
