"""Names with line breaks and iCalendar delimiters stay inside their properties."""

from __future__ import annotations

import re
from pathlib import Path

import asyncpg
import icalendar
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.feeds.support import Scene, feed_url, parse_with_icaljs

CONSULTANT_NAME = (
    "Ana Ruiz\r\nBEGIN:VEVENT\r\nUID:evil@attacker\r\nSUMMARY:injected\r\nEND:VEVENT\r\n"
    "X-INJECTED:1"
)
CREDENTIALS = "MD; PhD, \\ FASAM\nX-EVIL:2"
CLINIC_NAME = "Riverside;Family,Medicine \\ East\nX-EVIL:3\r\nBEGIN:VEVENT"


def _unescape(value: str) -> str:
    """A TEXT value as RFC 5545 section 3.3.11 reads it (icalendar leaves X- props raw)."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


async def _rename_in_the_database(
    conn: asyncpg.Connection, table: str, row: int, **values: str
) -> None:
    """Names written before the API refused control characters: straight into the rows."""
    # A CHECK added since (refusing such names) would stop the UPDATE: these rows predate it.
    checks = await conn.fetch(
        """
        SELECT conname FROM pg_constraint
        WHERE conrelid = $1::regclass AND contype = 'c'
          AND pg_get_constraintdef(oid) ~ '(name|credentials)'
        """,
        table,
    )
    for check in checks:
        await conn.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{check["conname"]}"')
    sets = ", ".join(f"{column} = ${n}" for n, column in enumerate(values, start=2))
    await conn.execute(f"UPDATE {table} SET {sets} WHERE id = $1", row, *values.values())


async def test_names_with_line_breaks_and_delimiters_stay_inside_their_properties(
    client: TestClient,
    network: Network,
    scene: Scene,
    conn: asyncpg.Connection,
    icaljs: Path,
) -> None:
    await _rename_in_the_database(
        conn, "consultants", scene.consultant_id, name=CONSULTANT_NAME, credentials=CREDENTIALS
    )
    await _rename_in_the_database(conn, "spokes", scene.clinic.id, name=CLINIC_NAME)
    consultant = f"{CONSULTANT_NAME}, {CREDENTIALS}".replace("\r\n", "\n")
    clinic = CLINIC_NAME.replace("\r\n", "\n")
    feeds = {
        "consultant": await feed_url(
            client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
        ),
        "clinic": await feed_url(
            client, f"/api/v1/spokes/{scene.clinic.id}/feed", scene.clinic.headers
        ),
    }
    expected_events = {
        "consultant": 6,
        "clinic": await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE spoke_id = $1", scene.clinic.id
        ),
    }
    titles = {"consultant": f"Telehub · {consultant}", "clinic": f"Telehub · {clinic}"}
    counterparts = {"consultant": clinic, "clinic": consultant}

    for kind, path in feeds.items():
        response = await client.get(path)
        feed = await response.read()
        assert response.status == 200, feed

        calendar = icalendar.Calendar.from_ical(feed)
        assert set(calendar) == {
            "PRODID",
            "VERSION",
            "CALSCALE",
            "METHOD",
            "NAME",
            "X-WR-CALNAME",
            "X-WR-TIMEZONE",
            "REFRESH-INTERVAL",
            "X-PUBLISHED-TTL",
        }
        assert _unescape(calendar["X-WR-CALNAME"]) == _unescape(calendar["NAME"]) == titles[kind]
        events = list(calendar.walk("VEVENT"))
        assert len(events) == expected_events[kind]
        assert not [e for e in events if "X-INJECTED" in e or "X-EVIL" in e]
        assert all(str(e["UID"]).endswith("@telehub") for e in events)
        ours = [e for e in events if str(e["SUMMARY"]).endswith(counterparts[kind])]
        assert ours, [str(e["SUMMARY"]) for e in events]

        seen = parse_with_icaljs(icaljs, feed)
        assert len(seen["events"]) == expected_events[kind]
        # ical.js, like icalendar, hands X-WR-CALNAME back as written: escaped, one line.
        assert _unescape(seen["props"]["x-wr-calname"]) == titles[kind]
        assert any(e["summary"].endswith(counterparts[kind]) for e in seen["events"])
