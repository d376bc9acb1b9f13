"""A time zone is chosen from a searchable list of every IANA zone, the US ones first."""

from __future__ import annotations

import re
from zoneinfo import available_timezones

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.coordinator_support import coordinator, post_form

US_FIRST = [
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Phoenix",
    "America/Los_Angeles",
    "America/Anchorage",
    "Pacific/Honolulu",
    "America/Puerto_Rico",
]


@pytest.mark.parametrize("path", ["/coordinator/spokes", "/coordinator/consultants"])
async def test_the_time_zone_box_offers_every_iana_zone_us_ones_first(
    client: TestClient, network: Network, path: str
) -> None:
    await coordinator(client, network)
    page = await (await client.get(path)).text()
    assert re.search(r'<input id="f-timezone" name="timezone" type="text" list="time-zones"', page)
    listed = re.search(r'<datalist id="time-zones">(.*?)</datalist>', page, flags=re.DOTALL)
    assert listed
    offered = re.findall(r'<option value="([^"]+)">([^<]+)</option>', listed[1])
    zones = [value for value, _ in offered]
    assert zones[:8] == US_FIRST
    assert set(zones) == available_timezones() | {"UTC"} and len(zones) == len(set(zones))
    assert zones[8:] == sorted(zones[8:])
    # Each shown as the pages show zones, so typing "new york" finds it too.
    assert offered[0] == ("America/New_York", "America/New York")


async def test_a_zone_from_beyond_the_us_is_taken_and_an_unknown_one_refused_by_name(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    await coordinator(client, network)
    fields = {"name": "Lisbon Clinic", "slug": "lisbon", "state": "VT"}
    unknown = await post_form(
        client, "/coordinator/spokes", {**fields, "timezone": "Europe/Atlantis"}
    )
    assert unknown.status == 422
    page = await unknown.text()
    assert "Time zone: must be an IANA time zone, such as America/New_York" in page
    assert 'value="Europe/Atlantis"' in page
    assert await conn.fetchval("SELECT count(*) FROM spokes") == 0

    known = await post_form(client, "/coordinator/spokes", {**fields, "timezone": "Europe/Lisbon"})
    assert known.status == 303
    assert await conn.fetchval("SELECT timezone FROM spokes") == "Europe/Lisbon"
