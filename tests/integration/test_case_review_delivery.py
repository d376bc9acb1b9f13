"""A case review's recommendation travels the whole loop: the real delivery worker pushes it
over HTTP to the clinic's loopback receiver, it waits in the clinic's inbox, the clinic
acknowledges it, and the program's measures count it. Two recommendations for one patient
racing in the same review: one is recorded."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpServer

from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.http.test_case_review_agenda import case_review
from tests.http.test_case_review_recommendations import ADVICE, path
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers, until


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings without the app's own delivery worker: the test runs the worker's
    pass itself, so the event is not claimed (and its receiver looked up) by the app first."""
    return dataclasses.replace(settings, delivery_workers=False)


async def test_the_recommendation_reaches_the_clinic_and_closes_the_loop(
    client: TestClient,
    pool: asyncpg.Pool,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    clock: Clock,
    aiohttp_server: AiohttpServer,
) -> None:
    review = await case_review(network, conn)
    receivers = await clinic_receivers(
        conn, aiohttp_server, [review.clinic.id, review.other_clinic.id]
    )
    hub = network.consultant_headers(review.consultant.id)
    made = await client.post(
        path(review.booking_id, review.episodes["not_improving"]), json=ADVICE, headers=hub
    )
    assert made.status == 201, await made.text()
    recommendation = await made.json()

    assert await deliver_to_receivers(pool, settings) == 1
    await until(lambda: receivers.received[review.clinic.id])
    event = receivers.event_of(review.clinic.id)
    assert receivers.received[review.other_clinic.id] == []
    assert event["type"] == "note.signed"
    assert event["data"]["note_id"] == recommendation["note_id"]
    assert event["data"]["recommendation_id"] == recommendation["id"]
    assert event["data"]["patient_id"] == str(
        await conn.fetchval(
            "SELECT patient_id FROM episodes WHERE id = $1", review.episodes["not_improving"]
        )
    )
    assert event["data"]["note"]["sections"]["recommendations"]["medications"] == (
        "Adjust medication: Start sertraline 50 mg daily."
    )

    inbox = await client.get(
        "/api/v1/notes", params={"acknowledged": "false"}, headers=review.clinic.headers
    )
    assert [n["id"] for n in (await inbox.json())["notes"]] == [recommendation["note_id"]]
    others = await client.get(
        "/api/v1/notes", params={"acknowledged": "false"}, headers=review.other_clinic.headers
    )
    assert (await others.json())["notes"] == []
    window = {"start": "2027-03-01T00:00:00Z", "end": "2027-03-02T00:00:00Z"}
    before = await client.get(
        "/api/v1/measures", params=window, headers=network.hub_admin_headers()
    )
    assert before.status == 200, await before.text()
    assert (await before.json())["overall"]["unacknowledged"] == 1

    clock.now += timedelta(hours=2)
    ack = await client.post(
        f"/api/v1/notes/{recommendation['note_id']}/acknowledge", headers=review.clinic.headers
    )
    assert ack.status == 200, await ack.text()
    assert (await ack.json())["acknowledged_at"] == "2027-03-01T17:00:00Z"

    inbox = await client.get(
        "/api/v1/notes", params={"acknowledged": "false"}, headers=review.clinic.headers
    )
    assert (await inbox.json())["notes"] == []
    after = await client.get("/api/v1/measures", params=window, headers=network.hub_admin_headers())
    overall = (await after.json())["overall"]
    assert overall["notes_signed"] == 1
    assert overall["acknowledged"] == 1
    assert overall["unacknowledged"] == 0
    assert overall["loop_closure_median_hours"] == 2.0
    [spoke] = [m for m in (await after.json())["by_spoke"] if m["key"] == review.clinic.id]
    assert spoke["acknowledged"] == 1


async def test_two_recommendations_racing_for_one_patient_record_one(
    client: TestClient, conn: asyncpg.Connection, network: Network, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    target = path(review.booking_id, review.episodes["safety"])

    answers = await asyncio.gather(
        client.post(target, json=ADVICE, headers=hub),
        client.post(target, json=ADVICE | {"choice": "refer"}, headers=network.hub_admin_headers()),
    )

    assert sorted(a.status for a in answers) == [201, 409]
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM recommendations WHERE booking_id = $1", review.booking_id
        )
        == 1
    )
    assert (
        await conn.fetchval(
            "SELECT count(*) FROM consult_notes WHERE recommendation_id IS NOT NULL"
        )
        == 1
    )
    assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
