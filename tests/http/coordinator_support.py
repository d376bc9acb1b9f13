"""Helpers shared by the coordinator page tests."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import Network, page_csrf, sign_in

PAGES = (
    "/coordinator",
    "/coordinator/consultants",
    "/coordinator/spokes",
    "/coordinator/services",
    "/coordinator/clients",
    "/coordinator/deliveries",
)
SECTIONS = {
    "assessment": "Opioid use disorder, severe; moderate depression.",
    "recommendations": {
        "moud": "Buprenorphine.",
        "medications": "",
        "therapy": "Weekly counseling.",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks.",
    "visit_recommended": False,
}
SVG = "{http://www.w3.org/2000/svg}"


def utc(month: int, day: int, hour: int = 0) -> datetime:
    """An aware UTC datetime in 2027 (or December 2026 for month 12)."""
    return datetime(2026 if month == 12 else 2027, month, day, hour, tzinfo=UTC)


class _Tables(HTMLParser):
    """Collects the text of each row of each table with an id."""

    def __init__(self) -> None:
        super().__init__()
        self.tables: dict[str, list[list[str]]] = {}
        self._table: str | None = None
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "table":
            self._table = dict(attrs).get("id") or ""
            self.tables[self._table] = []
        elif tag == "tr" and self._table is not None:
            self._row = []
        elif tag in ("td", "th") and self._row is not None:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in ("td", "th") and self._cell is not None and self._row is not None:
            self._row.append(" ".join("".join(self._cell).split()))
            self._cell = None
        elif tag == "tr" and self._row is not None and self._table is not None:
            self.tables[self._table].append(self._row)
            self._row = None
        elif tag == "table":
            self._table = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)


def tables(html: str) -> dict[str, list[list[str]]]:
    """Each table's rows (header row first) as lists of cell texts, by table id."""
    parser = _Tables()
    parser.feed(html)
    return parser.tables


def charts(html: str) -> dict[str, ET.Element]:
    """Each `<svg role="img">` on the page, parsed as XML, by its accessible title."""
    found = {}
    for markup in re.findall(r"<svg\b.*?</svg>", html, flags=re.DOTALL):
        root = ET.fromstring(markup)
        assert root.get("role") == "img"
        title_id, desc_id = root.get("aria-labelledby", "").split()
        title = root.find(f"{SVG}title[@id='{title_id}']")
        assert title is not None and root.find(f"{SVG}desc[@id='{desc_id}']") is not None
        found[title.text or ""] = root
    return found


def tooltips(chart: ET.Element) -> set[str]:
    """What each bar of a chart says about itself."""
    return {
        t.text or "" for r in chart.iter(f"{SVG}rect") if (t := r.find(f"{SVG}title")) is not None
    }


async def coordinator(client: TestClient, network: Network, role: str = "hub_coordinator") -> None:
    """Sign in a hub coordinator (the client keeps the session cookie)."""
    email, password = await network.user(role)
    assert (await sign_in(client, email, password)).status == 303


async def post_form(
    client: TestClient, path: str, data: list[tuple[str, str]] | dict[str, str], page: str = ""
) -> Any:
    """Post a form the way the browser does, with the CSRF token of the page it sits on."""
    token = await page_csrf(client, page or path)
    fields = list(data.items()) if isinstance(data, dict) else list(data)
    return await client.post(path, data=[("csrf_token", token), *fields], allow_redirects=False)
