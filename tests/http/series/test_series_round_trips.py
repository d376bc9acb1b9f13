"""A series through the API costs four round trips to PostgreSQL whatever its length (issue 16),
counted on the one connection of the app's pool once it knows the statements: BEGIN with the
key's claim and the consultant's time lock, one read, one write of the series, its sessions,
their audit rows and the kept answer, COMMIT. A replay costs three; "any consultant of a role"
one more, the statement that finds the role's consultants and locks their time."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Clock, Network, SpokeUser
from tests.round_trips import Counted, assert_four_with_key, assert_replayed_in_three, shown


async def test_a_series_of_twelve_is_four_round_trips_like_one_of_two(
    counted: Counted, settings: Settings, clock: Clock
) -> None:
    client, pool, sent = counted.client, counted.pool, counted.sent
    clock.now = datetime(2027, 2, 22, 15, 0, tzinfo=UTC)
    network = Network(pool, settings)
    service = await network.service(name="Counseling", roles=["telehealth_counselor"])
    counselor = await network.consultant(
        [service],
        timezone="America/New_York",
        hours=((0, time(9), time(12)),),
        role="telehealth_counselor",
    )
    spoke = await network.spoke(timezone="America/New_York")
    patient = await network.patient(spoke)

    async def post(first: str, count: int, key: str | None = None, **who: Any) -> Any:
        body = {
            "service_id": service.id,
            "patient_id": str(patient.id),
            "first_start": first,
            "repeat": "weekly",
            "count": count,
            **(who or {"consultant_id": counselor.id}),
        }
        return await _post(client, spoke, body, key)

    # asyncpg learns each statement's types once per connection.
    for warm in (
        await post("2027-03-01T09:00:00-05:00", 2),
        await post("2027-03-15T09:00:00-04:00", 2, role="telehealth_counselor"),
    ):
        assert warm.status == 201, await warm.text()
    sent.take()

    twelve = await post("2027-03-01T10:00:00-05:00", 12, key="course-12")
    of_twelve = sent.take()
    two = await post("2027-03-01T11:00:00-05:00", 2)
    of_two = sent.take()
    again = await post("2027-03-01T10:00:00-05:00", 12, key="course-12")
    replayed = sent.take()
    anyone = await post("2027-03-29T09:00:00-04:00", 2, role="telehealth_counselor")
    of_anyone = sent.take()

    assert (twelve.status, two.status) == (201, 201), await twelve.text()
    assert len((await twelve.json())["bookings"]) == 12
    assert len(of_twelve) == len(of_two) == 4, shown(of_twelve) + " || " + shown(of_two)
    assert_four_with_key(of_twelve, locks="lock_consultants_time", writes="INSERT INTO series")
    await assert_replayed_in_three(twelve, again, replayed)
    assert anyone.status == 201, await anyone.text()
    assert len(of_anyone) == 5, shown(of_anyone)
    assert "lock_consultants_time" in of_anyone[1]
    made = await twelve.json()
    async with pool.acquire() as conn:
        audited = await conn.fetch(
            "SELECT record_type, record_id FROM audit_log WHERE action = 'create'"
            " AND record_id = ANY ($1::text[]) ORDER BY id",
            [made["id"], *(b["id"] for b in made["bookings"])],
        )
    assert [(r["record_type"], r["record_id"]) for r in audited] == [
        *(("booking", b["id"]) for b in made["bookings"]),
        ("series", made["id"]),
    ]


async def _post(client: TestClient, spoke: SpokeUser, body: dict[str, Any], key: str | None) -> Any:
    headers = {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/series", json=body, headers=headers)
