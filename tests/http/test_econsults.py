"""E-consults: due-by in hub business hours, the paused clock, assignment and review slots."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests import factories
from tests.factories import Clock, Network, SpokeUser

# Friday 12 March 2027, 15:00 in New York (EST); the clocks go forward on Sunday the 14th.
FRIDAY_3PM = datetime(2027, 3, 12, 20, 0, tzinfo=UTC)


class World:
    """A hub with two e-consult consultants and one clinic with a patient."""

    service: Service
    first: Consultant
    second: Consultant
    spoke: SpokeUser
    patient: Patient


@pytest.fixture
async def world(network: Network) -> World:
    """An e-consult service (8 business hours), two consultants, a clinic and a patient."""
    w = World()
    w.service = await network.service(
        kind="econsult",
        name="E-consult",
        duration_minutes=30,
        interval_minutes=30,
        turnaround_hours=8,
        roles=["psychiatric_consultant"],
    )
    hours = tuple((d, time(9), time(12)) for d in range(5))
    w.first = await network.consultant([w.service], hours=hours, timezone="America/New_York")
    w.second = await network.consultant([w.service], hours=hours, timezone="America/New_York")
    w.spoke = await network.spoke()
    w.patient = await network.patient(w.spoke)
    return w


def _question(w: World, **changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "patient_id": str(w.patient.id),
        "service_id": w.service.id,
        "referring_clinician": "Dr. Lena Park, MD",
        "question": "Starting buprenorphine with ongoing fentanyl use and PHQ-9 of 18: "
        "induction strategy and SSRI choice?",
        "clinical_context": {
            "current_moud": {"medication": "none"},
            "phq9": 18,
            "gad7": 11,
            "co_occurring_diagnoses": ["Major depressive disorder"],
            "urine_drug_screen": {
                "collected_on": "2027-03-10",
                "results": {"fentanyl": "positive", "xylazine": "positive"},
            },
            "pain": {"present": True, "score": 6, "notes": "Chronic low back pain"},
            "psychosocial_needs": ["housing", "transportation"],
            "family_involvement": "Sister attends visits",
        },
    }
    body.update(changes)
    return body


async def _submit(client: TestClient, w: World, **changes: Any) -> dict[str, Any]:
    """The question, with `changes`, submitted by the clinic (asserting 201)."""
    return await factories.econsult(client, w.spoke, **_question(w, **changes))


async def test_a_queued_econsult_is_due_in_hub_business_hours_across_a_weekend_and_dst(
    client: TestClient, world: World, clock: Clock
) -> None:
    clock.now = FRIDAY_3PM
    econsult = await _submit(client, world)

    # Friday 15:00-17:00 EST is 2 business hours; 6 more on Monday from 08:00 EDT: 14:00 EDT.
    assert econsult["due_at"] == "2027-03-15T18:00:00Z"
    assert econsult["status"] == "assigned"
    assert econsult["clinical_context"]["phq9"] == 18
    assert econsult["clinical_context"]["urine_drug_screen"]["results"]["fentanyl"] == "positive"


async def test_an_urgent_econsult_is_due_within_one_business_day(
    client: TestClient, network: Network, world: World, clock: Clock
) -> None:
    slow = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=72, roles=["psychiatric_consultant"]
    )
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    urgent = await _submit(client, world, service_id=slow.id, urgency="urgent")
    routine = await _submit(client, world, service_id=slow.id)
    assert urgent["due_at"] == "2027-03-01T22:00:00Z"  # 17:00 EST the same day
    assert routine["due_at"] > urgent["due_at"]


async def test_econsults_go_to_the_least_loaded_consultant(
    client: TestClient, world: World
) -> None:
    first = await _submit(client, world)
    second = await _submit(client, world)
    third = await _submit(client, world)
    assigned = [first["consultant_id"], second["consultant_id"], third["consultant_id"]]
    assert assigned[:2] in ([world.first.id, world.second.id], [world.second.id, world.first.id])
    assert assigned.count(world.first.id) in (1, 2) and assigned.count(world.second.id) in (1, 2)


async def test_a_question_to_the_clinic_pauses_the_clock_until_the_clinic_answers(
    client: TestClient, network: Network, world: World, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)  # Monday 09:00 EST
    econsult = await _submit(client, world)
    assert econsult["due_at"] == "2027-03-01T22:00:00Z"  # Monday 17:00: 8 hours
    hub = network.consultant_headers(econsult["consultant_id"])
    url = f"/api/v1/econsults/{econsult['id']}/messages"

    clock.now = datetime(2027, 3, 1, 16, 0, tzinfo=UTC)  # 11:00: 6 business hours left
    asked = await client.post(
        url, json={"body": "Current buprenorphine dose?", "asks_clinic": True}, headers=hub
    )
    assert asked.status == 201
    paused = await (
        await client.get(f"/api/v1/econsults/{econsult['id']}", headers=world.spoke.headers)
    ).json()
    assert paused["status"] == "awaiting_clinic"
    assert paused["paused_at"] == "2027-03-01T16:00:00Z"

    clock.now = datetime(2027, 3, 2, 15, 0, tzinfo=UTC)  # Tuesday 10:00, a day later
    answered = await client.post(
        url, json={"body": "None yet; planning induction."}, headers=world.spoke.headers
    )
    assert answered.status == 201
    resumed = await (
        await client.get(f"/api/v1/econsults/{econsult['id']}", headers=world.spoke.headers)
    ).json()
    # The 6 hours left at the pause count again from Tuesday 10:00: due Tuesday 16:00 EST.
    assert resumed["status"] == "assigned"
    assert resumed["paused_at"] is None
    assert resumed["due_at"] == "2027-03-02T21:00:00Z"
    thread = await (await client.get(url, headers=hub)).json()
    assert [(m["side"], m["asks_clinic"]) for m in thread["messages"]] == [
        ("hub", True),
        ("spoke", False),
    ]


async def test_a_clinic_cannot_pause_its_own_clock(client: TestClient, world: World) -> None:
    econsult = await _submit(client, world)
    refused = await client.post(
        f"/api/v1/econsults/{econsult['id']}/messages",
        json={"body": "hello", "asks_clinic": True},
        headers=world.spoke.headers,
    )
    assert refused.status == 422
    assert (await refused.json())["errors"][0]["field"] == "asks_clinic"


async def test_an_econsult_can_be_booked_into_a_review_slot(
    client: TestClient, world: World, conn: asyncpg.Connection
) -> None:
    econsult = await _submit(
        client,
        world,
        review={"consultant_id": world.second.id, "start": "2027-03-08T10:00:00-05:00"},
    )
    assert econsult["consultant_id"] == world.second.id
    assert econsult["due_at"] == "2027-03-08T15:30:00Z"  # the end of the review slot
    booking = await conn.fetchrow(
        "SELECT service_id, status, video_link FROM bookings WHERE id = $1",
        uuid.UUID(econsult["booking_id"]),
    )
    assert (booking["service_id"], booking["status"], booking["video_link"]) == (
        world.service.id,
        "booked",
        None,
    )
    taken = await client.post(
        "/api/v1/econsults",
        json=_question(
            world, review={"consultant_id": world.second.id, "start": "2027-03-08T10:00:00-05:00"}
        ),
        headers=world.spoke.headers,
    )
    assert taken.status == 409
    assert await conn.fetchval("SELECT count(*) FROM econsults") == 1


async def test_the_hub_assigns_by_hand_and_only_to_someone_who_offers_the_service(
    client: TestClient, network: Network, world: World
) -> None:
    other = await network.service(roles=["psychiatric_consultant"])
    outsider = await network.consultant([other])
    econsult = await _submit(client, world)
    url = f"/api/v1/econsults/{econsult['id']}/assign"
    admin = network.hub_admin_headers()

    moved = await client.post(url, json={"consultant_id": world.second.id}, headers=admin)
    wrong = await client.post(url, json={"consultant_id": outsider.id}, headers=admin)
    by_spoke = await client.post(url, json={}, headers=world.spoke.headers)

    assert moved.status == 200 and (await moved.json())["consultant_id"] == world.second.id
    assert wrong.status == 422
    assert by_spoke.status == 403


async def test_the_worklist_lists_overdue_econsults_soonest_first(
    client: TestClient, network: Network, world: World, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 14, 0, tzinfo=UTC)
    early = await _submit(client, world)
    clock.now = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
    late = await _submit(client, world)
    clock.now = datetime(2027, 3, 2, 13, 0, tzinfo=UTC)  # Tuesday 08:00: the first is overdue
    overdue = await (
        await client.get(
            "/api/v1/econsults", params={"overdue": "true"}, headers=network.hub_admin_headers()
        )
    ).json()
    everything = await (
        await client.get("/api/v1/econsults", headers=network.hub_admin_headers())
    ).json()
    assert [e["id"] for e in overdue["econsults"]] == [early["id"]]
    assert [e["id"] for e in everything["econsults"]] == [early["id"], late["id"]]


async def test_another_clinic_cannot_see_or_answer_an_econsult(
    client: TestClient, network: Network, world: World, conn: asyncpg.Connection
) -> None:
    econsult = await _submit(client, world)
    other = await network.spoke()
    seen = await client.get(f"/api/v1/econsults/{econsult['id']}", headers=other.headers)
    posted = await client.post(
        f"/api/v1/econsults/{econsult['id']}/messages", json={"body": "hi"}, headers=other.headers
    )
    listed = await (await client.get("/api/v1/econsults", headers=other.headers)).json()
    assert (seen.status, posted.status, listed["econsults"]) == (404, 404, [])
    assert await conn.fetchval("SELECT count(*) FROM econsult_messages") == 0


async def test_an_econsult_for_another_clinics_patient_is_refused(
    client: TestClient, network: Network, world: World
) -> None:
    other = await network.spoke()
    theirs = await network.patient(other)
    refused = await client.post(
        "/api/v1/econsults",
        json=_question(world, patient_id=str(theirs.id)),
        headers=world.spoke.headers,
    )
    assert refused.status == 422
    assert (await refused.json())["errors"][0]["field"] == "patient_id"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"clinical_context": {"phq9": 28}}, "clinical_context.phq9"),
        (
            {"clinical_context": {"current_moud": {"medication": "heroin"}}},
            "clinical_context.current_moud.medication",
        ),
        (
            {"clinical_context": {"urine_drug_screen": {"results": {"kratom": "positive"}}}},
            "clinical_context.urine_drug_screen.results.kratom.[key]",
        ),
        ({"urgency": "yesterday"}, "urgency"),
        ({"question": ""}, "question"),
        ({"service_id": 999999}, "service_id"),
    ],
    ids=[
        "phq9-out-of-range",
        "unknown-moud",
        "unknown-substance",
        "bad-urgency",
        "empty-question",
        "unknown-service",
    ],
)
async def test_a_malformed_econsult_names_the_field_and_writes_nothing(
    client: TestClient,
    world: World,
    conn: asyncpg.Connection,
    change: dict[str, Any],
    field: str,
) -> None:
    refused = await client.post(
        "/api/v1/econsults", json=_question(world, **change), headers=world.spoke.headers
    )
    assert refused.status == 422
    assert field in [e["field"] for e in (await refused.json())["errors"]]
    assert await conn.fetchval("SELECT count(*) FROM econsults") == 0


async def test_a_hub_holiday_stops_the_clock_for_new_econsults(
    client: TestClient, network: Network, world: World, clock: Clock
) -> None:
    admin = network.hub_admin_headers()
    put = await client.put(
        "/api/v1/hub/holidays",
        headers=admin,
        json={"holidays": [{"day": "2027-03-15", "name": "Hub training day"}]},
    )
    assert put.status == 200
    assert (await put.json())["holidays"] == [{"day": "2027-03-15", "name": "Hub training day"}]
    clock.now = FRIDAY_3PM
    econsult = await _submit(client, world)
    # Friday 2 hours, Monday the 15th closed, Tuesday 6 hours from 08:00 EDT: 14:00 EDT.
    assert econsult["due_at"] == "2027-03-16T18:00:00Z"
    refused = await client.put(
        "/api/v1/hub/holidays", headers=world.spoke.headers, json={"holidays": []}
    )
    assert refused.status == 403
    twice = await client.put(
        "/api/v1/hub/holidays",
        headers=admin,
        json={"holidays": [{"day": "2027-12-25", "name": "a"}, {"day": "2027-12-25", "name": "b"}]},
    )
    assert twice.status == 422
