"""An enrolment in a group through the API costs four round trips to PostgreSQL (issue 16),
counted on the one connection of the app's pool once it knows the statements (asyncpg reads a
statement's types once per connection): BEGIN with the key's claim and the group's row lock,
one read, one write (enrolment, seats, the patient's waiting place settled, audit row, kept
answer), COMMIT. A replay costs three, and the answer stored is the one given."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from scheduling import group_seats
from telehub.audit import Trail
from telehub.settings import Settings
from tests.factories import Clock, Network, SpokeUser
from tests.factories.groups import NOW, enrol, group, seats_held, spoke_caller
from tests.round_trips import Counted, assert_four_with_key, assert_replayed_in_three


async def post_seat(
    client: TestClient, spoke: SpokeUser, group_id: uuid.UUID, body: dict[str, Any], key: str
) -> ClientResponse:
    headers = {**spoke.headers, "Idempotency-Key": key}
    return await client.post(f"/api/v1/groups/{group_id}/seats", json=body, headers=headers)


async def test_an_enrolment_is_four_round_trips_settles_the_waiting_place_and_replays_in_three(
    counted: Counted, settings: Settings, clock: Clock
) -> None:
    client, pool, sent = counted.client, counted.pool, counted.sent
    network = Network(pool, settings)
    made = await group(network, capacity=2, count=2)
    spoke = await network.spoke()
    first, second, waiting = [await network.patient(spoke) for _ in range(3)]
    warm = await post_seat(client, spoke, made.id, {"patient_id": str(first.id)}, "warm")
    assert warm.status == 201, await warm.text()  # asyncpg learns the statements' types once
    # Occurrence 1 full, occurrence 2 with seat 2 free: the third patient may wait, then be
    # enrolled from occurrence 2 by the clinic, which settles the waiting place.
    leaving = await enrol(network, spoke, made.id, second.id)
    caller = spoke_caller(spoke)
    async with pool.acquire() as conn, conn.transaction():
        await group_seats.withdraw(conn, caller, Trail(caller.actor), made.id, leaving.id, 2, NOW)
        place = await group_seats.wait(conn, caller, Trail(caller.actor), made.id, waiting.id, NOW)
    sent.take()

    body = {"patient_id": str(waiting.id), "from": 2}
    enrolled = await post_seat(client, spoke, made.id, body, "round-trips-1")
    sent_by_it = sent.take()
    again = await post_seat(client, spoke, made.id, body, "round-trips-1")
    replayed = sent.take()

    assert enrolled.status == 201, await enrolled.text()
    answer = await enrolled.json()
    assert [(s["position"], s["seat_no"], s["attendance"]) for s in answer["seats"]] == [
        (2, 2, "expected")
    ]
    assert_four_with_key(sent_by_it, locks="FROM groups", writes="INSERT INTO group_enrolments")
    assert "FOR UPDATE" in sent_by_it[0]
    await assert_replayed_in_three(enrolled, again, replayed)
    read = await client.get(enrolled.headers["Location"], headers=spoke.headers)
    assert await read.json() == answer  # the answer given is what was stored
    async with pool.acquire() as conn:
        settled = await conn.fetchrow(
            "SELECT status, enrolment_id, settled_at FROM group_waitlist WHERE id = $1", place.id
        )
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE action = 'create'"
            " AND record_type = 'group_enrolment' AND record_id = $1",
            answer["id"],
        )
        assert await seats_held(conn, made.id) == {1: [1, 2], 2: [1, 2]}
    assert dict(settled) == {
        "status": "assigned",
        "enrolment_id": uuid.UUID(answer["id"]),
        "settled_at": clock.now,
    }
    assert audited == 1
