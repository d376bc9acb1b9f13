"""Booking, idempotent retries, rescheduling and cancelling through the API."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, time, timedelta

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import (
    Clock,
    Network,
    SpokeUser,
    book,
    bookable,
    booking_body,
    slot_starts,
)

MONDAY_9_LA = datetime(2027, 3, 8, 17, 0, tzinfo=UTC)  # 09:00 PST


async def _book(
    client: TestClient, spoke: SpokeUser, body: dict[str, object], key: str | None = None
) -> tuple[int, dict[str, object]]:
    """(status, JSON) of POST /api/v1/bookings, refusals included."""
    response = await book(client, spoke, body, key=key)
    return response.status, await response.json()


def _body(
    svc: Service, consultant: Consultant, patient: Patient, start: datetime
) -> dict[str, object]:
    return booking_body(
        service_id=svc.id,
        consultant_id=consultant.id,
        patient_id=patient.id,
        start=start,
        reason="Buprenorphine induction follow-up",
    )


async def test_an_offered_slot_can_be_booked_and_is_then_no_longer_offered(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    assert "2027-03-08T17:00:00Z" in await slot_starts(client, spoke.headers, svc.id)

    status, booking = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))

    assert status == 201
    assert booking["start"] == "2027-03-08T17:00:00Z"
    assert booking["end"] == "2027-03-08T18:00:00Z"
    assert booking["status"] == "booked"
    assert booking["spoke_id"] == spoke.id
    assert str(booking["video_link"]).startswith("https://video.telehub.example/room/")
    assert "2027-03-08T17:00:00Z" not in await slot_starts(client, spoke.headers, svc.id)
    got = await client.get(f"/api/v1/bookings/{booking['id']}", headers=spoke.headers)
    assert (await got.json())["id"] == booking["id"]


async def test_each_video_session_gets_its_own_video_link(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    links = set()
    for hour in (17, 18, 19):
        start = MONDAY_9_LA.replace(hour=hour)
        status, booking = await _book(client, spoke, _body(svc, consultant, patient, start))
        assert status == 201
        links.add(booking["video_link"])
    assert len(links) == 3


async def test_an_econsult_booking_has_no_video_link(client: TestClient, network: Network) -> None:
    svc, consultant, spoke, patient = await bookable(
        network, kind="econsult", turnaround_hours=48, duration_minutes=30
    )
    status, booking = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))
    assert status == 201
    assert booking["video_link"] is None


async def test_a_retry_with_the_same_key_and_body_replays_the_first_answer(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    body = _body(svc, consultant, patient, MONDAY_9_LA)

    first = await client.post(
        "/api/v1/bookings", json=body, headers={**spoke.headers, "Idempotency-Key": "retry-1"}
    )
    again = await client.post(
        "/api/v1/bookings", json=body, headers={**spoke.headers, "Idempotency-Key": "retry-1"}
    )

    assert (first.status, again.status) == (201, 201)
    assert await first.read() == await again.read()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1


async def test_a_new_booking_and_its_replay_say_where_it_lives(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    headers = {**spoke.headers, "Idempotency-Key": "located-1"}
    body = _body(svc, consultant, patient, MONDAY_9_LA)

    first = await client.post("/api/v1/bookings", json=body, headers=headers)
    again = await client.post("/api/v1/bookings", json=body, headers=headers)

    booking_id = (await first.json())["id"]
    assert first.headers["Location"] == f"/api/v1/bookings/{booking_id}"
    assert again.headers["Location"] == first.headers["Location"]
    fetched = await client.get(first.headers["Location"], headers=spoke.headers)
    assert fetched.status == 200


async def test_the_same_key_with_another_body_is_refused(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA), key="k")

    other = _body(svc, consultant, patient, MONDAY_9_LA + timedelta(hours=1))
    status, problem = await _book(client, spoke, other, key="k")

    assert status == 422
    assert problem["type"] == "/problems/idempotency-key-reused"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1


async def test_a_retry_while_the_first_is_in_flight_gets_409(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    body = _body(svc, consultant, patient, MONDAY_9_LA)
    # Lock the bookings table so the first request stops inside its transaction, holding
    # the key's advisory lock; the retry must not wait for it.
    async with pool.acquire() as blocker, blocker.transaction():
        await blocker.execute("LOCK TABLE bookings IN EXCLUSIVE MODE")
        first = asyncio.create_task(_book(client, spoke, body, key="slow"))
        for _ in range(200):
            holding = await blocker.fetchval(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted"
            )
            if holding:
                break
            await asyncio.sleep(0.02)
        status, problem = await _book(client, spoke, body, key="slow")
        assert status == 409
        assert problem["type"] == "/problems/idempotency-in-flight"
    assert (await first)[0] == 201


async def test_a_refused_request_may_be_retried_with_its_key_once_the_cause_is_gone(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    _, blocker = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))
    wanted = _body(svc, consultant, patient, MONDAY_9_LA)

    refused = await _book(client, spoke, wanted, key="retry-later")
    assert refused[0] == 409
    assert (
        await conn.fetchval("SELECT count(*) FROM idempotency_keys WHERE key = 'retry-later'") == 0
    )
    await client.post(
        f"/api/v1/bookings/{blocker['id']}/cancel", json={"reason": "moved"}, headers=spoke.headers
    )
    retried = await _book(client, spoke, wanted, key="retry-later")
    replayed = await _book(client, spoke, wanted, key="retry-later")

    assert retried[0] == replayed[0] == 201
    assert retried[1]["id"] == replayed[1]["id"]


async def test_overlaps_across_services_are_refused(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    video = await network.service(duration_minutes=60)
    review = await network.service(kind="case_review", duration_minutes=30, interval_minutes=30)
    consultant = await network.consultant([video, review])
    spoke = await network.spoke()
    patient = await network.patient(spoke)

    assert (await _book(client, spoke, _body(video, consultant, patient, MONDAY_9_LA)))[0] == 201
    # 09:30 is a case-review slot in the rules, but the 09:00-10:00 video session holds it.
    status, problem = await _book(
        client, spoke, _body(review, consultant, patient, MONDAY_9_LA + timedelta(minutes=30))
    )

    assert status == 409
    assert problem["type"] == "/problems/slot-taken"
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1


async def test_buffers_keep_neighbouring_bookings_apart(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    # 30-minute sessions every 30 minutes, but each needs 15 minutes after it.
    svc, consultant, spoke, patient = await bookable(
        network, duration_minutes=30, interval_minutes=30, buffer_after_minutes=15
    )

    assert (await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA)))[0] == 201
    status, problem = await _book(
        client, spoke, _body(svc, consultant, patient, MONDAY_9_LA + timedelta(minutes=30))
    )
    assert status == 409
    assert problem["type"] == "/problems/slot-taken"
    later = MONDAY_9_LA + timedelta(minutes=60)
    assert (await _book(client, spoke, _body(svc, consultant, patient, later)))[0] == 201
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 2


async def test_the_database_refuses_an_overlap_even_past_the_slot_check(
    conn: asyncpg.Connection, network: Network
) -> None:
    from scheduling import booking_store
    from scheduling.slots import Period

    svc, consultant, spoke, patient = await bookable(network)
    period = Period(MONDAY_9_LA, MONDAY_9_LA + timedelta(hours=1))
    fields = dict(
        service_id=svc.id,
        consultant_id=consultant.id,
        spoke_id=spoke.id,
        patient_id=patient.id,
        reason="",
        video_link=None,
        created_by="test",
    )
    await booking_store.insert_booking(conn, period=period, blocked=period, **fields)
    nudged = Period(period.start + timedelta(minutes=59), period.end + timedelta(minutes=59))
    try:
        await booking_store.insert_booking(conn, period=nudged, blocked=nudged, **fields)
    except booking_store.Overlap:
        pass
    else:
        raise AssertionError("an overlapping insert was accepted")
    touching = Period(period.end, period.end + timedelta(hours=1))
    await booking_store.insert_booking(conn, period=touching, blocked=touching, **fields)


async def test_reschedule_moves_the_booking_and_frees_the_old_time(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    _, booking = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))

    moved = await client.post(
        f"/api/v1/bookings/{booking['id']}/reschedule",
        json={"start": "2027-03-08T10:00:00-08:00"},
        headers=spoke.headers,
    )

    assert moved.status == 200
    body = await moved.json()
    assert (body["id"], body["start"], body["sequence"]) == (
        booking["id"],
        "2027-03-08T18:00:00Z",
        1,
    )
    starts = await slot_starts(client, spoke.headers, svc.id)
    assert "2027-03-08T17:00:00Z" in starts
    assert "2027-03-08T18:00:00Z" not in starts


async def test_reschedule_into_an_overlapping_time_of_its_own_is_allowed(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(
        network, duration_minutes=60, interval_minutes=30
    )
    _, booking = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))

    moved = await client.post(
        f"/api/v1/bookings/{booking['id']}/reschedule",
        json={"start": (MONDAY_9_LA + timedelta(minutes=30)).isoformat()},
        headers=spoke.headers,
    )
    assert moved.status == 200


async def test_a_failed_reschedule_keeps_the_old_time(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    _, mine = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))
    later = MONDAY_9_LA + timedelta(hours=1)
    assert (await _book(client, spoke, _body(svc, consultant, patient, later)))[0] == 201

    refused = await client.post(
        f"/api/v1/bookings/{mine['id']}/reschedule",
        json={"start": later.isoformat()},
        headers=spoke.headers,
    )

    assert refused.status == 409
    row = await conn.fetchrow(
        "SELECT lower(period) AS start, sequence, status FROM bookings WHERE id = $1",
        uuid.UUID(str(mine["id"])),
    )
    assert (row["start"], row["sequence"], row["status"]) == (MONDAY_9_LA, 0, "booked")


async def test_concurrent_reschedules_into_one_time_leave_exactly_one_there(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(
        network, duration_minutes=30, interval_minutes=30
    )
    ids = []
    for minutes in (0, 30, 60, 90):
        start = MONDAY_9_LA + timedelta(minutes=minutes)
        _, booking = await _book(client, spoke, _body(svc, consultant, patient, start))
        ids.append(booking["id"])
    target = (MONDAY_9_LA + timedelta(hours=2)).isoformat()

    responses = await asyncio.gather(
        *(
            client.post(
                f"/api/v1/bookings/{i}/reschedule", json={"start": target}, headers=spoke.headers
            )
            for i in ids
        )
    )

    assert sorted(r.status for r in responses) == [200, 409, 409, 409]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM bookings WHERE lower(period) = $1",
            MONDAY_9_LA + timedelta(hours=2),
        )
        == 1
    )
    assert await conn.fetchval("SELECT count(*) FROM bookings WHERE status = 'booked'") == 4


async def test_cancel_keeps_the_row_with_its_reason_and_reopens_the_time(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    _, booking = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))

    cancelled = await client.post(
        f"/api/v1/bookings/{booking['id']}/cancel",
        json={"reason": "Patient admitted to inpatient care"},
        headers=spoke.headers,
    )

    assert cancelled.status == 200
    body = await cancelled.json()
    assert body["status"] == "cancelled"
    assert body["cancel_reason"] == "Patient admitted to inpatient care"
    assert body["sequence"] == 1
    assert await conn.fetchval("SELECT count(*) FROM bookings") == 1
    assert "2027-03-08T17:00:00Z" in await slot_starts(client, spoke.headers, svc.id)
    again = await client.post(
        f"/api/v1/bookings/{booking['id']}/cancel", json={"reason": "twice"}, headers=spoke.headers
    )
    assert again.status == 409


async def test_list_pages_through_bookings_in_start_order(
    client: TestClient, network: Network
) -> None:
    svc, consultant, spoke, patient = await bookable(network)
    for hour in (19, 17, 18):
        await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA.replace(hour=hour)))

    first = await (
        await client.get("/api/v1/bookings", params={"limit": 2}, headers=spoke.headers)
    ).json()
    second = await (
        await client.get(
            "/api/v1/bookings",
            params={"limit": 2, "cursor": first["next_cursor"]},
            headers=spoke.headers,
        )
    ).json()

    starts = [b["start"] for b in first["bookings"] + second["bookings"]]
    assert starts == ["2027-03-08T17:00:00Z", "2027-03-08T18:00:00Z", "2027-03-08T19:00:00Z"]
    assert second["next_cursor"] is None


async def test_time_off_and_min_notice_are_honoured_at_booking_time(
    client: TestClient, network: Network, clock: Clock
) -> None:
    from scheduling.store import ExceptionRow

    svc = await network.service(min_notice_minutes=24 * 60)
    off = ExceptionRow("time_off", MONDAY_9_LA, MONDAY_9_LA + timedelta(hours=1), None, "")
    consultant = await network.consultant([svc], hours=((0, time(9), time(12)),), exceptions=[off])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    status, _ = await _book(client, spoke, _body(svc, consultant, patient, MONDAY_9_LA))
    assert status == 422
    clock.now = datetime(2027, 3, 7, 19, 0, tzinfo=UTC)
    status, _ = await _book(
        client, spoke, _body(svc, consultant, patient, MONDAY_9_LA + timedelta(hours=1))
    )
    assert status == 422  # less than 24 h ahead
    status, _ = await _book(
        client, spoke, _body(svc, consultant, patient, MONDAY_9_LA + timedelta(hours=2))
    )
    assert status == 201
