"""What the series page tests share: the form as the clinic fills it, and readers of pages."""

from __future__ import annotations

import re
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.http.spoke_support import Clinic, post


def series_form(c: Clinic, **changes: str) -> dict[str, str]:
    """Four weekly video visits, Mondays 12:00 in New York (09:00 for the consultant)."""
    return {
        "patient_id": str(c.patient.id),
        "service_id": str(c.video.id),
        "consultant_id": str(c.consultant.id),
        "first_start": "2027-03-08T12:00",
        "repeat": "weekly",
        "count": "4",
        "reason": "Counseling course",
        **changes,
    }


async def plan(client: TestClient, c: Clinic, **changes: str) -> ClientResponse:
    """The plan step's post."""
    return await post(client, "/spoke/series/plan", series_form(c, **changes), c.csrf)


def confirmation(html: str) -> dict[str, str]:
    """The confirmation form's hidden inputs, as a browser would send them."""
    form = html.split('<form method="post" action="/spoke/series">', 1)[1].split("</form>")[0]
    return dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))


def alternatives(html: str, position: int) -> list[str]:
    """The times offered instead of a session that is not open."""
    return re.findall(rf'name="override\.{position}" value="([^"]+)"', html)


async def sessions(conn: asyncpg.Connection) -> list[dict[str, Any]]:
    """Every booking that belongs to a series, by position."""
    rows = await conn.fetch(
        "SELECT series_id, series_position AS position, lower(period) AS start, status"
        " FROM bookings WHERE series_id IS NOT NULL ORDER BY series_position"
    )
    return [dict(r) for r in rows]
