"""Every text in a feed is escaped by icalendar: names holding line breaks, `;`, `,`, `\\` or
a would-be `BEGIN:VEVENT` stay inside their own property, under `python -O` too."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import icalendar
import pytest

from scheduling.ical import FeedEvent, render_calendar

ROOT = Path(__file__).resolve().parents[2]
INJECTION = (
    "Dr. Ana Ruiz\r\nBEGIN:VEVENT\r\nUID:evil@attacker\r\nSUMMARY:injected\r\nEND:VEVENT\r\n"
    "X-INJECTED:1"
)
NAMES = [
    "Line\nbreak",
    "Windows\r\nline break",
    "Bare\rreturn",
    "Semi;colon, comma \\ backslash",
    INJECTION,
    "Tab\tand\x00NUL\x1bescape\x7f",
]
CALENDAR_PROPERTIES = {
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
EVENT_PROPERTIES = {
    "UID",
    "DTSTAMP",
    "CREATED",
    "LAST-MODIFIED",
    "SEQUENCE",
    "DTSTART",
    "DTEND",
    "SUMMARY",
    "DESCRIPTION",
    "STATUS",
    "TRANSP",
    "CLASS",
    "LOCATION",
    "URL",
}
WINDOW = (date(2027, 2, 1), date(2027, 9, 1))


def _event(n: int, name: str) -> FeedEvent:
    moment = datetime(2027, 3, 8 + n, 17, tzinfo=UTC)
    return FeedEvent(
        uid=f"booking-{n}@telehub",
        summary=f"Video session · {name}",
        description=f"Telehub booking TH-{n}\nWith: {name}",
        start=moment,
        end=moment.replace(hour=18),
        zone="America/Los_Angeles",
        cancelled=False,
        sequence=0,
        created=moment,
        last_modified=moment,
        location=name,
        url=f"https://telehub.test/spoke/bookings/{n}?who={name}",
    )


def _feed(name: str) -> bytes:
    return render_calendar(f"Telehub · {name}", "America/Los_Angeles", [_event(1, name)], WINDOW)


def _as_read(name: str) -> str:
    """What a parser reads back: line breaks as LF, other control characters gone."""
    kept = name.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(c for c in kept if c in "\t\n" or (c >= " " and c != "\x7f"))


def _unescape(value: str) -> str:
    """A TEXT value as RFC 5545 section 3.3.11 reads it."""
    return re.sub(r"\\([\\;,nN])", lambda m: "\n" if m[1] in "nN" else m[1], value)


def _check(feed: bytes, name: str) -> None:
    calendar = icalendar.Calendar.from_ical(feed)
    assert set(calendar) == CALENDAR_PROPERTIES
    # icalendar does not know NAME and X-WR-CALNAME as TEXT, so it leaves them escaped.
    for prop in ("NAME", "X-WR-CALNAME"):
        assert _unescape(calendar[prop]) == f"Telehub · {_as_read(name)}"
    events = list(calendar.walk("VEVENT"))
    assert len(events) == 1
    (event,) = events
    assert set(event) == EVENT_PROPERTIES
    assert str(event["UID"]) == "booking-1@telehub"
    assert str(event["SUMMARY"]) == f"Video session · {_as_read(name)}"
    assert str(event["LOCATION"]) == _as_read(name)
    assert str(event["DESCRIPTION"]).endswith(f"With: {_as_read(name)}")
    assert len(calendar.walk("VTIMEZONE")) == 1
    # Nothing outside the escaped values: every physical line is a property or a fold.
    for line in feed.split(b"\r\n")[:-1]:
        assert b"\r" not in line and b"\n" not in line
        assert line.startswith(b" ") or b":" in line or b";" in line


@pytest.mark.parametrize("name", NAMES)
def test_a_name_stays_inside_its_properties(name: str) -> None:
    _check(_feed(name), name)


def test_the_injection_adds_no_event_under_python_dash_o() -> None:
    # icalendar refuses an unescaped newline in a content line only with `assert`, which
    # `python -O` strips: so the proof that everything is escaped must run under -O.
    program = (
        "import sys\n"
        "from tests.unit.test_ical_escaping import INJECTION, _feed\n"
        "assert False, 'asserts are on'\n"
    )
    probe = subprocess.run(
        [sys.executable, "-O", "-c", program + "sys.stdout.buffer.write(_feed(INJECTION))"],
        cwd=ROOT,
        capture_output=True,
        timeout=60,
    )
    assert probe.returncode == 0, probe.stderr.decode()
    _check(probe.stdout, INJECTION)
