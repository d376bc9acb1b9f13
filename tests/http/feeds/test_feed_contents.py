"""Calendar feeds: parsed by Mozilla's ical.js and by icalendar, one event per booking, no
patient data, stable UIDs with a growing SEQUENCE, the same bytes each time."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.feeds.support import Scene, feed_url, parse_with_icalendar, parse_with_icaljs


async def test_a_consultant_feed_matches_the_bookings_one_for_one_in_both_parsers(
    client: TestClient, network: Network, scene: Scene, conn: asyncpg.Connection, icaljs: Path
) -> None:
    path = await feed_url(
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
    path = await feed_url(
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
                await feed_url(
                    client,
                    f"/api/v1/consultants/{scene.consultant_id}/feed",
                    network.hub_admin_headers(),
                )
            )
        ).read(),
        await (
            await client.get(
                await feed_url(
                    client, f"/api/v1/spokes/{scene.clinic.id}/feed", scene.clinic.headers
                )
            )
        ).read(),
        await (
            await client.get(
                await feed_url(client, f"/api/v1/spokes/{scene.other.id}/feed", scene.other.headers)
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
    path = await feed_url(client, f"/api/v1/spokes/{scene.other.id}/feed", scene.other.headers)
    events = parse_with_icaljs(icaljs, await (await client.get(path)).read())["events"]
    theirs = await conn.fetch("SELECT id FROM bookings WHERE spoke_id = $1", scene.other.id)
    assert {e["uid"] for e in events} == {f"{r['id']}@telehub" for r in theirs}
    assert all(e["tzid"] == "America/New_York" for e in events)
    assert all(" · Consultant " in e["summary"] for e in events)
    foreign = await client.post(
        f"/api/v1/spokes/{scene.other.id}/feed", headers=scene.clinic.headers
    )
    assert foreign.status == 404


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
