"""A group's occurrences in the calendar feeds: once each in the counselor's feed with the seats
taken ("MOUD support group · 3 of 10 seats"), in a clinic's feed with the number of its own
patients ("2 of your patients"), never a name; a cancelled occurrence shows cancelled."""

from __future__ import annotations

import uuid
from pathlib import Path

import asyncpg
from aiohttp.test_utils import TestClient

from scheduling import groups
from telehub.audit import Trail
from tests.factories import Network, SpokeUser
from tests.factories.groups import HUB, NOW, enrol, group
from tests.http.feeds.support import feed_url, parse_with_icalendar, parse_with_icaljs


class Seats:
    """A weekly group of 3 occurrences with 10 seats: two patients of `mine`, one of `theirs`."""

    def __init__(self, made: groups.Group, mine: SpokeUser, theirs: SpokeUser) -> None:
        self.made, self.mine, self.theirs = made, mine, theirs


async def _seats(network: Network) -> Seats:
    made = await group(network, capacity=10, count=3)
    mine, theirs = await network.spoke(), await network.spoke()
    for clinic, n in ((mine, 2), (theirs, 1)):
        for _ in range(n):
            patient = await network.patient(clinic, family_name="Quixotesque")
            await enrol(network, clinic, made.id, patient.id)
    return Seats(made, mine, theirs)


async def _feed(client: TestClient, path: str) -> bytes:
    response = await client.get(path)
    assert response.status == 200, await response.text()
    return await response.read()


async def _paths(client: TestClient, network: Network, s: Seats) -> tuple[str, str, str]:
    counselor = s.made.consultant_id
    return (
        await feed_url(
            client,
            f"/api/v1/consultants/{counselor}/feed",
            network.consultant_headers(counselor),
        ),
        await feed_url(client, f"/api/v1/spokes/{s.mine.id}/feed", s.mine.headers),
        await feed_url(client, f"/api/v1/spokes/{s.theirs.id}/feed", s.theirs.headers),
    )


async def test_the_counselor_sees_each_occurrence_once_with_seats_and_clinics_their_count(
    client: TestClient, network: Network, icaljs: Path
) -> None:
    s = await _seats(network)
    counselor_path, mine_path, theirs_path = await _paths(client, network, s)

    counselor = parse_with_icalendar(await _feed(client, counselor_path))
    mine_feed = await _feed(client, mine_path)
    mine = parse_with_icalendar(mine_feed)
    theirs = parse_with_icalendar(await _feed(client, theirs_path))
    read_by_icaljs = parse_with_icaljs(icaljs, mine_feed)

    uids = [str(o.id) + "@telehub" for o in s.made.occurrences]
    assert [str(e["uid"]) for e in counselor] == uids
    assert {str(e["summary"]) for e in counselor} == {"MOUD support group · 3 of 10 seats"}
    assert [str(e["uid"]) for e in mine] == uids
    assert {str(e["summary"]) for e in mine} == {"MOUD support group · 2 of your patients"}
    assert {str(e["summary"]) for e in theirs} == {"MOUD support group · 1 of your patients"}
    assert [e["summary"] for e in read_by_icaljs["events"]] == [
        "MOUD support group · 2 of your patients"
    ] * 3
    for feed in (counselor, mine, theirs):
        for event in feed:
            assert "Quixotesque" not in event.to_ical().decode()
            assert "Given" not in event.to_ical().decode()


async def test_a_cancelled_occurrence_shows_cancelled_under_the_same_uid_and_counts_follow(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    s = await _seats(network)
    counselor_path, mine_path, _ = await _paths(client, network, s)
    before = await client.get(counselor_path)
    async with conn.transaction():
        await groups.cancel_from(conn, HUB, Trail("test"), s.made.id, 3, "Holiday", NOW)
    newcomer = await network.patient(s.theirs)
    await enrol(network, s.theirs, s.made.id, newcomer.id)

    after = await client.get(counselor_path, headers={"If-None-Match": before.headers["ETag"]})
    counselor = parse_with_icalendar(await after.read())
    mine = parse_with_icalendar(await _feed(client, mine_path))

    assert after.status == 200  # the feed changed, so the ETag did
    assert [(str(e["summary"]), str(e["status"])) for e in counselor] == [
        ("MOUD support group · 4 of 10 seats", "CONFIRMED"),
        ("MOUD support group · 4 of 10 seats", "CONFIRMED"),
        ("MOUD support group · 0 of 10 seats", "CANCELLED"),
    ]
    assert str(counselor[2]["uid"]) == f"{s.made.occurrences[2].id}@telehub"
    assert [str(e["status"]) for e in mine] == ["CONFIRMED", "CONFIRMED", "CANCELLED"]


async def test_a_clinic_without_patients_in_a_group_has_none_of_its_occurrences(
    client: TestClient, network: Network
) -> None:
    s = await _seats(network)
    bystander = await network.spoke()
    path = await feed_url(client, f"/api/v1/spokes/{bystander.id}/feed", bystander.headers)

    events = parse_with_icalendar(await _feed(client, path))

    assert events == []
    assert uuid.UUID(str(s.made.id))  # the group is there, just not for this clinic
