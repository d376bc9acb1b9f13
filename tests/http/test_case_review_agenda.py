"""A case review's agenda: the booking clinic's flagged patients, most urgent first, each with
their trend, current MOUD and last recommendation; read by the clinic, the review's consultant
and the hub, and by no one else."""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from hub.store import Consultant
from scheduling.store import Service
from tests.factories import Clock, Network, SpokeUser, booking_in_store

# The clock stands at Monday 1 March 2027, 15:00Z: 10:00 in the clinic (New York).
TODAY = date(2027, 3, 1)
BEGUN = datetime(2027, 3, 1, 14, tzinfo=UTC)  # the review began an hour ago
TO_COME = datetime(2027, 3, 8, 17, tzinfo=UTC)
EARLIER_REVIEW = datetime(2027, 2, 1, 17, tzinfo=UTC)
# The agenda's order: one patient per flag, two never reviewed (the longer in treatment first).
ORDER = [
    "safety",
    "not_improving",
    "moud_gap",
    "positive_screen",
    "no_contact",
    "new",
    "never_reviewed_longer",
    "never_reviewed",
]


def ago(*, weeks: int = 0, days: int = 0) -> date:
    """A day before today."""
    return TODAY - timedelta(weeks=weeks, days=days)


@dataclass
class Review:
    """A case review of clinic `clinic` with `consultant`, and the clinic's episodes by name."""

    service: Service
    consultant: Consultant
    other_consultant: Consultant
    clinic: SpokeUser
    other_clinic: SpokeUser
    booking_id: uuid.UUID
    to_come_id: uuid.UUID  # a case review that has not begun
    others_review_id: uuid.UUID  # the other consultant's review of the same clinic
    video_id: uuid.UUID  # a video session of the clinic: no agenda
    episodes: dict[str, uuid.UUID] = field(default_factory=dict)
    earlier_recommendation: uuid.UUID | None = None


async def _episode(
    conn: asyncpg.Connection,
    network: Network,
    spoke: SpokeUser,
    care_manager_id: int,
    consultant_id: int,
    started_on: date,
    program: str = "collaborative_care",
) -> uuid.UUID:
    patient = await network.patient(spoke)
    episode_id: uuid.UUID = await conn.fetchval(
        """
        INSERT INTO episodes (spoke_id, patient_id, program, care_manager_id, treating_clinician,
                              consultant_id, started_on, created_by)
        VALUES ($1, $2, $3, $4, 'Dr. Treating', $5, $6, 'test') RETURNING id
        """,
        spoke.id,
        patient.id,
        program,
        care_manager_id,
        consultant_id,
        started_on,
    )
    return episode_id


async def _measure(
    conn: asyncpg.Connection, episode_id: uuid.UUID, on: date, kind: str, **values: Any
) -> None:
    await conn.execute(
        """
        INSERT INTO care_measures (episode_id, spoke_id, kind, measured_on, items, adherence,
                                   medication, daily_dose_mg, screen, recorded_by)
        SELECT id, spoke_id, $2, $3, $4, $5, $6, $7, $8, 'test' FROM episodes WHERE id = $1
        """,
        episode_id,
        kind,
        on,
        values.get("items"),
        values.get("adherence"),
        values.get("medication"),
        values.get("dose"),
        values.get("screen"),
    )


async def _contact(conn: asyncpg.Connection, episode_id: uuid.UUID, on: date) -> None:
    await conn.execute(
        """
        INSERT INTO care_contacts (episode_id, spoke_id, contact_on, minutes, kind, who, counts,
                                   recorded_by)
        SELECT id, spoke_id, $2, 20, 'phone', 'Care manager', true, 'test'
        FROM episodes WHERE id = $1
        """,
        episode_id,
        on,
    )


async def _care_manager(conn: asyncpg.Connection, network: Network, spoke: SpokeUser) -> int:
    email, _ = await network.user("care_manager", spoke_id=spoke.id)
    user_id: int = await conn.fetchval("SELECT id FROM users WHERE email = $1", email)
    return user_id


async def case_review(network: Network, conn: asyncpg.Connection) -> Review:
    """A case review that began an hour ago, and the clinic's episodes: one per flag (made in
    a shuffled order), one with no flag, one closed, and another clinic's flagged one."""
    service = await network.service(kind="case_review")
    video = await network.service()
    consultant = await network.consultant([service, video])
    other_consultant = await network.consultant([service])
    clinic, other_clinic = await network.spoke(), await network.spoke()
    manager = await _care_manager(conn, network, clinic)
    other_manager = await _care_manager(conn, network, other_clinic)
    someone = await network.patient(clinic)

    async def review_booking(start: datetime, by: Consultant, of: Service) -> uuid.UUID:
        return await booking_in_store(
            conn,
            service_id=of.id,
            consultant_id=by.id,
            spoke_id=clinic.id,
            patient_id=someone.id,
            start=start,
        )

    made = Review(
        service=service,
        consultant=consultant,
        other_consultant=other_consultant,
        clinic=clinic,
        other_clinic=other_clinic,
        booking_id=await review_booking(BEGUN, consultant, service),
        to_come_id=await review_booking(TO_COME, consultant, service),
        others_review_id=await review_booking(
            BEGUN + timedelta(hours=2), other_consultant, service
        ),
        video_id=await review_booking(BEGUN - timedelta(hours=2), consultant, video),
    )
    earlier = await review_booking(EARLIER_REVIEW, consultant, service)
    steady = [2, 1, 1, 1, 1, 1, 1, 1, 0]  # PHQ-9 of 9, item 9 at 0

    async def safety(e: uuid.UUID) -> None:
        await _measure(conn, e, ago(weeks=8), "phq9", items=[2] * 9)
        await _measure(conn, e, ago(days=3), "phq9", items=[1, 1, 1, 1, 1, 1, 1, 1, 1])
        await _contact(conn, e, ago(days=3))

    async def not_improving(e: uuid.UUID) -> None:
        await _measure(conn, e, ago(weeks=12), "phq9", items=[2] * 9)
        await _measure(conn, e, ago(days=3), "phq9", items=[2, 2, 2, 2, 2, 2, 2, 2, 0])
        await _measure(conn, e, ago(weeks=12), "gad7", items=[2] * 7)
        await _contact(conn, e, ago(days=3))

    async def moud_gap(e: uuid.UUID) -> None:
        await _measure(
            conn,
            e,
            ago(days=3),
            "moud",
            adherence="missed_doses",
            medication="buprenorphine_naloxone",
            dose=16,
        )
        await _contact(conn, e, ago(days=3))

    async def positive_screen(e: uuid.UUID) -> None:
        await _measure(
            conn,
            e,
            ago(days=4),
            "moud",
            adherence="taking_as_prescribed",
            medication="buprenorphine",
            dose=12,
        )
        await _measure(
            conn,
            e,
            ago(days=3),
            "urine_drug_screen",
            screen={"buprenorphine": "positive", "fentanyl": "positive"},
        )
        await _contact(conn, e, ago(days=3))

    async def no_contact(e: uuid.UUID) -> None:
        await _contact(conn, e, ago(weeks=5))

    async def new(e: uuid.UUID) -> None:
        pass

    async def reviewed_quiet(e: uuid.UUID) -> None:
        await _measure(conn, e, ago(days=3), "phq9", items=steady)
        await _contact(conn, e, ago(days=3))

    plans: list[tuple[str, date, str, Any]] = [
        ("safety", ago(weeks=8), "collaborative_care", safety),
        ("not_improving", ago(weeks=12), "collaborative_care", not_improving),
        ("moud_gap", ago(weeks=6), "oud", moud_gap),
        ("positive_screen", ago(weeks=6), "oud", positive_screen),
        ("no_contact", ago(weeks=8), "collaborative_care", no_contact),
        ("new", ago(days=5), "collaborative_care", new),
        ("never_reviewed_longer", ago(weeks=7), "collaborative_care", reviewed_quiet),
        ("never_reviewed", ago(weeks=6), "collaborative_care", reviewed_quiet),
        ("unflagged", ago(weeks=6), "collaborative_care", reviewed_quiet),
        ("closed", ago(days=5), "collaborative_care", new),
    ]
    random.Random(13).shuffle(plans)
    for name, started_on, program, plan in plans:
        made.episodes[name] = await _episode(
            conn, network, clinic, manager, consultant.id, started_on, program
        )
        await plan(made.episodes[name])
    await conn.execute(
        "UPDATE episodes SET ended_on = $2, end_reason = 'transferred' WHERE id = $1",
        made.episodes["closed"],
        TODAY,
    )
    made.episodes["other_clinic"] = await _episode(
        conn, network, other_clinic, other_manager, consultant.id, ago(days=5)
    )
    # An earlier review: the patient not improving was discussed, the quiet one too (so it
    # has no flag at all).
    for name, choice, text in (
        ("not_improving", "adjust_medication", "Raise sertraline to 100 mg daily."),
        ("unflagged", "no_change", "Keep going."),
    ):
        rec: uuid.UUID = await conn.fetchval(
            """
            INSERT INTO recommendations (booking_id, episode_id, spoke_id, consultant_id,
                                         choice, text, recorded_by, recorded_at)
            VALUES ($1, $2, $3, $4, $5, $6, 'test', $7) RETURNING id
            """,
            earlier,
            made.episodes[name],
            clinic.id,
            consultant.id,
            choice,
            text,
            EARLIER_REVIEW + timedelta(minutes=30),
        )
        if name == "not_improving":
            made.earlier_recommendation = rec
    return made


async def read_agenda(
    client: TestClient, booking_id: uuid.UUID, headers: dict[str, str], status: int = 200
) -> dict[str, Any]:
    """GET the agenda, asserting the status; the body."""
    response = await client.get(f"/api/v1/bookings/{booking_id}/agenda", headers=headers)
    assert response.status == status, await response.text()
    body: dict[str, Any] = await response.json()
    return body


def names_of(review: Review, agenda: dict[str, Any]) -> list[str]:
    """The agenda's patients by the names the fixture gave their episodes."""
    by_id = {str(v): k for k, v in review.episodes.items()}
    return [by_id.get(i["episode_id"], i["episode_id"]) for i in agenda["items"]]


async def test_the_agenda_lists_the_clinics_flagged_patients_in_flag_order(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)

    agenda = await read_agenda(
        client, review.booking_id, network.consultant_headers(review.consultant.id)
    )

    assert names_of(review, agenda) == ORDER
    assert [i["flags"][0] for i in agenda["items"]] == [
        "safety",
        "not_improving",
        "moud_gap",
        "positive_screen",
        "no_contact",
        "new",
        "never_reviewed",
        "never_reviewed",
    ]
    assert agenda["spoke_id"] == review.clinic.id
    assert agenda["spoke_name"] == review.clinic.name
    assert agenda["consultant_id"] == review.consultant.id
    assert agenda["recorded"] == []


async def test_each_item_carries_its_trend_moud_and_last_recommendation(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)

    agenda = await read_agenda(client, review.booking_id, review.clinic.headers)
    items = {n: i for n, i in zip(names_of(review, agenda), agenda["items"], strict=True)}

    stuck = items["not_improving"]
    assert stuck["trend"]["phq9"] == [
        {"measured_on": ago(weeks=12).isoformat(), "score": 18},
        {"measured_on": ago(days=3).isoformat(), "score": 16},
    ]
    assert stuck["trend"]["gad7"] == [{"measured_on": ago(weeks=12).isoformat(), "score": 14}]
    assert stuck["phq9_change"] == -11.1
    assert stuck["weeks"] == 12
    last = stuck["last_recommendation"]
    assert last["id"] == str(review.earlier_recommendation)
    assert last["choice"] == "adjust_medication"
    assert last["text"] == "Raise sertraline to 100 mg daily."
    assert last["recorded_at"] == "2027-02-01T17:30:00Z"
    assert stuck["last_review_at"] == "2027-02-01T17:30:00Z"
    assert stuck["recommended_in_this_review"] is False
    assert items["moud_gap"]["moud"] == {
        "medication": "buprenorphine_naloxone",
        "adherence": "missed_doses",
        "daily_dose_mg": 16.0,
    }
    assert items["safety"]["moud"] is None
    assert items["safety"]["last_recommendation"] is None
    assert items["new"]["trend"] == {"phq9": [], "gad7": []}


async def test_unflagged_closed_and_another_clinics_patients_are_not_on_it(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)

    for headers in (
        review.clinic.headers,
        network.consultant_headers(review.consultant.id),
        network.hub_admin_headers(),
    ):
        agenda = await read_agenda(client, review.booking_id, headers)
        on_it = {i["episode_id"] for i in agenda["items"]}
        for absent in ("unflagged", "closed", "other_clinic"):
            assert str(review.episodes[absent]) not in on_it
        assert names_of(review, agenda) == ORDER


async def test_only_the_clinic_the_reviews_consultant_and_the_hub_read_it(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    before = await conn.fetchval("SELECT count(*) FROM audit_log")

    await read_agenda(client, review.booking_id, review.other_clinic.headers, 404)
    await read_agenda(
        client, review.booking_id, network.consultant_headers(review.other_consultant.id), 404
    )
    await read_agenda(client, uuid.uuid4(), network.hub_admin_headers(), 404)
    # A video session of the clinic is not a case review: it has no agenda.
    refused = await read_agenda(client, review.video_id, review.clinic.headers, 404)
    assert refused["detail"] == "no such case review"
    assert await conn.fetchval("SELECT count(*) FROM audit_log") == before


async def test_reading_the_agenda_is_audited(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    headers = network.consultant_headers(review.consultant.id)

    await read_agenda(client, review.booking_id, headers)

    rows = await conn.fetch(
        "SELECT action, record_type, record_id, spoke_id, actor FROM audit_log WHERE actor = $1",
        f"client:c-{review.consultant.id}",
    )
    # The clinic's open episodes were read to find the flagged ones: the quiet one too; the
    # closed one and the other clinic's were not.
    episodes = {r["record_id"] for r in rows if r["record_type"] == "episode"}
    assert episodes == {str(review.episodes[n]) for n in [*ORDER, "unflagged"]}
    assert {r["record_id"] for r in rows if r["record_type"] == "booking"} == {
        str(review.booking_id)
    }
    assert {r["record_id"] for r in rows if r["record_type"] == "recommendation"} == {
        str(review.earlier_recommendation)
    }
    assert {(r["action"], r["spoke_id"]) for r in rows} == {("read", review.clinic.id)}


async def cover_case_review(api: Any, network: Network) -> None:
    """Drive every case review operation once, for the OpenAPI contract test
    (tests/http/test_response_schemas.py): the agenda, a recommendation, its note amended."""
    async with network.pool.acquire() as conn:
        review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    ids = {"id": review.booking_id, "episode_id": review.episodes["safety"]}
    await api.call(
        "GET", "/api/v1/bookings/{id}/agenda", review.clinic.headers, status=200, ids=ids
    )
    made = await api.call(
        "POST",
        "/api/v1/bookings/{id}/agenda/{episode_id}/recommendation",
        {**hub, "Idempotency-Key": "contract-recommendation"},
        status=201,
        ids=ids,
        json={"choice": "refer", "text": "Refer to the hub's trauma-focused therapy."},
    )
    note = await api.call("GET", "/api/v1/notes/{id}", hub, status=200, ids={"id": made["note_id"]})
    await api.call(
        "POST",
        "/api/v1/recommendations/{id}/notes",
        hub,
        status=201,
        ids=made,
        json={"sections": note["sections"]},
    )
    await api.call("GET", "/api/v1/recommendations/{id}/notes", hub, status=200, ids=made)
