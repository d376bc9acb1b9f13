"""A course of sessions in the calendar feeds: each session its own event, with a UID that
stays its own, saying which session of the course it is ("Counseling · session 3 of 12")."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import series
from scheduling.series_schemas import SeriesIn
from telehub.audit import Trail
from telehub.auth import Caller
from tests.factories import Clock, Network, SpokeUser
from tests.http.feeds.support import feed_url, parse_with_icalendar, parse_with_icaljs


async def _course(
    network: Network, conn: asyncpg.Connection, clock: Clock
) -> tuple[SpokeUser, int, list[uuid.UUID]]:
    """Twelve weekly Counseling sessions, Mondays 09:00 in Los Angeles; clinic, consultant,
    booking ids by position."""
    counseling = await network.service(name="Counseling", duration_minutes=50)
    consultant = await network.consultant(
        [counseling], hours=((0, time(9), time(12)),), role="telehealth_counselor"
    )
    clinic = await network.spoke()
    patient = await network.patient(clinic, family_name="Feedless")
    caller = Caller(kind="spoke", client_id="test", scopes=frozenset(), spoke_id=clinic.id)
    body = SeriesIn(
        service_id=counseling.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        first_start=datetime(2027, 3, 8, 17, tzinfo=UTC),
        repeat="weekly",
        count=12,
    )
    async with conn.transaction():
        booked = await series.book(conn, caller, Trail("test"), body, clock.now)
    return clinic, consultant.id, [b.id for b in booked.bookings]


async def test_each_session_is_its_own_event_saying_which_session_it_is(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock, icaljs: Path
) -> None:
    clinic, consultant_id, ids = await _course(network, conn, clock)
    paths = [
        await feed_url(
            client,
            f"/api/v1/consultants/{consultant_id}/feed",
            network.consultant_headers(consultant_id),
        ),
        await feed_url(client, f"/api/v1/spokes/{clinic.id}/feed", clinic.headers),
    ]
    for path in paths:
        feed = await (await client.get(path)).read()

        events = {str(e["UID"]): e for e in parse_with_icalendar(feed)}
        assert list(events) == [f"{i}@telehub" for i in ids]
        for n, booking_id in enumerate(ids, start=1):
            summary = str(events[f"{booking_id}@telehub"]["SUMMARY"])
            assert summary.startswith(f"Counseling · session {n} of 12 · ")
        seen = parse_with_icaljs(icaljs, feed)
        assert [e["summary"].split(" · ")[1] for e in seen["events"]] == [
            f"session {n} of 12" for n in range(1, 13)
        ]
        assert "Feedless" not in feed.decode()
        # Every session keeps 12:00 in New York, the clinic's time, across 14 March.
        assert {e.decoded("DTSTART").astimezone(UTC).hour for e in events.values()} == {16, 17}


async def test_cancelling_one_session_cancels_only_its_event(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    clinic, _, ids = await _course(network, conn, clock)
    path = await feed_url(client, f"/api/v1/spokes/{clinic.id}/feed", clinic.headers)
    before = {str(e["UID"]): e for e in parse_with_icalendar(await (await client.get(path)).read())}

    cancelled = await client.post(
        f"/api/v1/bookings/{ids[4]}/cancel", json={"reason": "Away"}, headers=clinic.headers
    )
    assert cancelled.status == 200
    after = {str(e["UID"]): e for e in parse_with_icalendar(await (await client.get(path)).read())}

    assert list(after) == list(before)
    changed = [uid for uid in after if after[uid].to_ical() != before[uid].to_ical()]
    assert changed == [f"{ids[4]}@telehub"]
    assert str(after[f"{ids[4]}@telehub"]["STATUS"]) == "CANCELLED"
    assert after[f"{ids[4]}@telehub"]["SEQUENCE"] > before[f"{ids[4]}@telehub"]["SEQUENCE"]
    assert str(after[f"{ids[4]}@telehub"]["SUMMARY"]).startswith("Counseling · session 5 of 12")


async def test_a_course_cut_short_counts_to_its_last_session(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    clinic, _, ids = await _course(network, conn, clock)
    path = await feed_url(client, f"/api/v1/spokes/{clinic.id}/feed", clinic.headers)
    series_id = await conn.fetchval("SELECT series_id FROM bookings WHERE id = $1", ids[0])
    caller = Caller(kind="spoke", client_id="test", scopes=frozenset(), spoke_id=clinic.id)
    async with conn.transaction():
        await series.cancel_from(conn, caller, Trail("test"), series_id, 8, "Discharged", clock.now)

    events = parse_with_icalendar(await (await client.get(path)).read())

    summaries = [str(e["SUMMARY"]).split(" · ")[1] for e in events]
    assert summaries[:7] == [f"session {n} of 7" for n in range(1, 8)]
    assert [str(e["STATUS"]) for e in events[7:]] == ["CANCELLED"] * 5


async def test_cutting_a_course_short_past_the_window_changes_the_feeds_etag(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    counseling = await network.service(name="Counseling", duration_minutes=50)
    consultant = await network.consultant([counseling], hours=((0, time(9), time(12)),))
    clinic = await network.spoke()
    patient = await network.patient(clinic)
    caller = Caller(kind="spoke", client_id="test", scopes=frozenset(), spoke_id=clinic.id)
    body = SeriesIn(
        service_id=counseling.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        first_start=datetime(2027, 3, 8, 17, tzinfo=UTC),
        repeat="every_2_weeks",
        count=26,  # to February 2028: past the feed's six months
    )
    async with conn.transaction():
        booked = await series.book(conn, caller, Trail("test"), body, clock.now)
    path = await feed_url(client, f"/api/v1/spokes/{clinic.id}/feed", clinic.headers)
    first = await client.get(path)
    tag = first.headers["ETag"]
    assert str(parse_with_icalendar(await first.read())[0]["SUMMARY"]).count("session 1 of 26")
    async with conn.transaction():
        await series.cancel_from(conn, caller, Trail("test"), booked.id, 20, "Done", clock.now)

    again = await client.get(path, headers={"If-None-Match": tag})

    assert again.status == 200 and again.headers["ETag"] != tag
    assert str(parse_with_icalendar(await again.read())[0]["SUMMARY"]).count("session 1 of 19")
