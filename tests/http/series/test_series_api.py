"""POST /api/v1/series and friends through the app: all or none, replay, 409 and 422s, audit."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, SpokeUser
from tests.http.problems import problem_of

NEW_YORK = ZoneInfo("America/New_York")
FIRST = "2027-03-01T10:00:00-05:00"  # Monday 1 March 2027, 10:00 in New York


class Setting:
    """A counseling service, a NY counselor free Mondays 9-12, a NY clinic and its patient."""

    service_id: int
    counselor_id: int
    spoke: SpokeUser
    patient_id: uuid.UUID

    def body(self, **fields: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "service_id": self.service_id,
            "consultant_id": self.counselor_id,
            "patient_id": str(self.patient_id),
            "first_start": FIRST,
            "repeat": "weekly",
            "count": 4,
        }
        values.update(fields)
        return {k: v for k, v in values.items() if v is not None}


@pytest.fixture
async def setting(network: Network, clock: Clock) -> Setting:
    """The course's parties, the clock a week before the first session."""
    clock.now = datetime(2027, 2, 22, 15, 0, tzinfo=UTC)
    s = Setting()
    service = await network.service(name="Counseling", roles=["telehealth_counselor"])
    counselor = await network.consultant(
        [service],
        timezone="America/New_York",
        hours=((0, time(9), time(12)),),
        role="telehealth_counselor",
    )
    s.service_id, s.counselor_id = service.id, counselor.id
    s.spoke = await network.spoke(timezone="America/New_York")
    s.patient_id = (await network.patient(s.spoke)).id
    return s


async def post(
    client: TestClient, spoke: SpokeUser, body: dict[str, Any], key: str | None = None
) -> Any:
    headers = {**spoke.headers, "Idempotency-Key": key or uuid.uuid4().hex}
    return await client.post("/api/v1/series", json=body, headers=headers)


async def booked_count(pool: asyncpg.Pool, spoke: SpokeUser) -> tuple[int, int]:
    async with pool.acquire() as conn:
        return (
            await conn.fetchval("SELECT count(*) FROM series WHERE spoke_id = $1", spoke.id),
            await conn.fetchval("SELECT count(*) FROM bookings WHERE spoke_id = $1", spoke.id),
        )


async def test_a_weekly_series_from_1_march_is_at_ten_in_new_york_every_week(
    client: TestClient, setting: Setting
) -> None:
    response = await post(client, setting.spoke, setting.body(count=6))

    assert response.status == 201, await response.text()
    made = await response.json()
    assert response.headers["Location"] == f"/api/v1/series/{made['id']}"
    local = [datetime.fromisoformat(b["start"]).astimezone(NEW_YORK) for b in made["bookings"]]
    assert [t.strftime("%a %H:%M") for t in local] == ["Mon 10:00"] * 6
    assert [t.day for t in local] == [1, 8, 15, 22, 29, 5]
    assert [b["series_position"] for b in made["bookings"]] == [1, 2, 3, 4, 5, 6]
    assert made["zone"] == "America/New_York"


async def test_the_same_key_replays_the_first_answer_and_books_once(
    client: TestClient, pool: asyncpg.Pool, setting: Setting
) -> None:
    first = await post(client, setting.spoke, setting.body(), key="course-1")
    again = await post(client, setting.spoke, setting.body(), key="course-1")

    assert (first.status, again.status) == (201, 201)
    assert await first.text() == await again.text()
    assert await booked_count(pool, setting.spoke) == (1, 4)


async def test_a_taken_session_answers_409_listing_it_with_alternatives_and_books_nothing(
    client: TestClient, pool: asyncpg.Pool, network: Network, setting: Setting
) -> None:
    rival = await network.spoke()
    rival_patient = await network.patient(rival)
    taken = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": setting.service_id,
            "consultant_id": setting.counselor_id,
            "patient_id": str(rival_patient.id),
            "start": "2027-03-15T10:00:00-04:00",
        },
        headers={**rival.headers, "Idempotency-Key": "rival"},
    )
    assert taken.status == 201, await taken.text()

    problem = await problem_of(await post(client, setting.spoke, setting.body()), 409)

    assert problem["type"] == "/problems/series-conflict"
    assert problem["consultant_id"] == setting.counselor_id
    [session] = problem["not_open"]
    assert session["position"] == 3
    assert datetime.fromisoformat(session["start"]) == datetime(2027, 3, 15, 14, 0, tzinfo=UTC)
    assert session["reason"] == "Another booking already holds this time."
    assert session["alternatives"]
    assert await booked_count(pool, setting.spoke) == (0, 0)

    chosen = session["alternatives"][0]
    resent = await post(
        client, setting.spoke, setting.body(overrides=[{"occurrence": 3, "start": chosen}])
    )
    assert resent.status == 201, await resent.text()
    assert (await resent.json())["bookings"][2]["start"] == chosen.replace("+00:00", "Z")


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"count": 27}, "count"),
        ({"repeat": "daily"}, "repeat"),
        ({"until": "2027-04-01"}, "count"),
        ({"count": None}, "count"),
        ({"count": None, "until": "2027-12-31"}, "until"),
        (
            {"overrides": [{"occurrence": 5, "start": "2027-03-30T14:00:00Z"}]},
            "overrides.0.occurrence",
        ),
        ({"first_start": "2027-03-01T18:00:00-05:00"}, "first_start"),
        ({"role": "telehealth_counselor"}, "consultant_id"),
    ],
)
async def test_a_series_that_cannot_be_answers_422_naming_the_field_and_books_nothing(
    client: TestClient,
    pool: asyncpg.Pool,
    setting: Setting,
    fields: dict[str, Any],
    field: str,
) -> None:
    problem = await problem_of(await post(client, setting.spoke, setting.body(**fields)), 422)

    assert [e["field"] for e in problem["errors"]] == [field]
    assert await booked_count(pool, setting.spoke) == (0, 0)


async def test_without_an_idempotency_key_nothing_is_booked(
    client: TestClient, pool: asyncpg.Pool, setting: Setting
) -> None:
    response = await client.post(
        "/api/v1/series", json=setting.body(), headers=setting.spoke.headers
    )

    problem = await problem_of(response, 400)
    assert problem["errors"][0]["field"] == "Idempotency-Key"
    assert await booked_count(pool, setting.spoke) == (0, 0)


async def test_reads_and_writes_are_audited_and_another_clinic_sees_nothing(
    client: TestClient, pool: asyncpg.Pool, network: Network, setting: Setting
) -> None:
    made = await (await post(client, setting.spoke, setting.body(count=2))).json()
    other = await network.spoke()

    seen = await client.get(f"/api/v1/series/{made['id']}", headers=setting.spoke.headers)
    hidden = await client.get(f"/api/v1/series/{made['id']}", headers=other.headers)
    listed = await client.get(
        "/api/v1/series", params={"patient_id": str(setting.patient_id)}, headers=other.headers
    )

    assert seen.status == 200
    await problem_of(hidden, 404)
    assert (await listed.json())["series"] == []
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, record_type, record_id FROM audit_log WHERE spoke_id = $1",
            setting.spoke.id,
        )
    trail = {(r["action"], r["record_type"], r["record_id"]) for r in rows}
    sessions = [b["id"] for b in made["bookings"]]
    assert ("create", "series", made["id"]) in trail
    assert ("read", "series", made["id"]) in trail
    assert {("create", "booking", b) for b in sessions} <= trail
    assert {("read", "booking", b) for b in sessions} <= trail


async def test_cancel_from_keeps_earlier_sessions_and_refuses_a_position_past_the_end(
    client: TestClient, setting: Setting
) -> None:
    made = await (await post(client, setting.spoke, setting.body())).json()
    url = f"/api/v1/series/{made['id']}/cancel"

    kept = await client.post(
        url, json={"from": 2, "reason": "Patient moves away"}, headers=setting.spoke.headers
    )
    past = await client.post(
        url, json={"from": 5, "reason": "Patient moves away"}, headers=setting.spoke.headers
    )
    again = await client.post(
        url, json={"from": 3, "reason": "Patient moves away"}, headers=setting.spoke.headers
    )

    assert kept.status == 200, await kept.text()
    statuses = [b["status"] for b in (await kept.json())["bookings"]]
    assert statuses == ["booked", "cancelled", "cancelled", "cancelled"]
    assert [e["field"] for e in (await problem_of(past, 422))["errors"]] == ["from"]
    await problem_of(again, 409)


async def test_one_session_is_moved_with_the_booking_endpoint_and_stays_in_its_series(
    client: TestClient, setting: Setting
) -> None:
    made = await (await post(client, setting.spoke, setting.body(count=2))).json()
    second = made["bookings"][1]["id"]

    moved = await client.post(
        f"/api/v1/bookings/{second}/reschedule",
        json={"start": "2027-03-08T11:00:00-05:00"},
        headers=setting.spoke.headers,
    )
    after = await (
        await client.get(f"/api/v1/series/{made['id']}", headers=setting.spoke.headers)
    ).json()

    assert moved.status == 200, await moved.text()
    single = await moved.json()  # the booking endpoints say which course a session is of
    assert (single["series_id"], single["series_position"]) == (made["id"], 2)
    assert after["bookings"][1]["id"] == second
    assert after["bookings"][1]["series_position"] == 2
    assert after["bookings"][1]["start"] == "2027-03-08T16:00:00Z"


async def test_another_clinic_cannot_cancel_a_series_and_changes_nothing(
    client: TestClient, network: Network, setting: Setting
) -> None:
    made = await (await post(client, setting.spoke, setting.body(count=2))).json()
    other = await network.spoke()

    refused = await client.post(
        f"/api/v1/series/{made['id']}/cancel",
        json={"from": 1, "reason": "Not ours"},
        headers=other.headers,
    )
    after = await (
        await client.get(f"/api/v1/series/{made['id']}", headers=setting.spoke.headers)
    ).json()

    await problem_of(refused, 404)
    assert [b["status"] for b in after["bookings"]] == ["booked", "booked"]
