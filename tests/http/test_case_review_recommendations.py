"""The consultant's recommendation for one patient of a case review: a signed consult note to
the clinic, the episode's last review; refused (and nothing written) when it may not be made."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from care import registry
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from tests.factories import Clock, Network
from tests.http.test_case_review_agenda import (
    BEGUN,
    ORDER,
    TODAY,
    Review,
    case_review,
    cover_case_review,
    names_of,
    read_agenda,
)
from tests.http.test_response_schemas import Contract

ADVICE = {"choice": "adjust_medication", "text": "Start sertraline 50 mg daily."}


def path(booking_id: uuid.UUID, episode_id: uuid.UUID) -> str:
    """Where a patient's recommendation in a review is recorded."""
    return f"/api/v1/bookings/{booking_id}/agenda/{episode_id}/recommendation"


async def written(conn: asyncpg.Connection) -> tuple[int, int, int]:
    """How many recommendations, consult notes and outbox events there are."""
    row = await conn.fetchrow(
        """
        SELECT (SELECT count(*) FROM recommendations),
               (SELECT count(*) FROM consult_notes),
               (SELECT count(*) FROM outbox)
        """
    )
    assert row is not None
    return row[0], row[1], row[2]


async def recommend(
    client: TestClient,
    review: Review,
    name: str,
    headers: dict[str, str],
    body: dict[str, Any] | None = None,
    status: int = 201,
) -> dict[str, Any]:
    """POST a recommendation for the episode named `name`, asserting the status."""
    response = await client.post(
        path(review.booking_id, review.episodes[name]), json=body or ADVICE, headers=headers
    )
    assert response.status == status, await response.text()
    answer: dict[str, Any] = await response.json()
    if status == 201:
        assert response.headers["Location"].endswith(f"/api/v1/notes/{answer['note_id']}")
    return answer


async def test_a_recommendation_is_signed_to_the_clinic_and_is_the_episodes_last_review(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)

    made = await recommend(client, review, "never_reviewed", hub)

    assert made["choice"] == "adjust_medication"
    assert made["text"] == ADVICE["text"]
    assert made["episode_id"] == str(review.episodes["never_reviewed"])
    assert made["booking_id"] == str(review.booking_id)
    assert made["recorded_at"] == "2027-03-01T15:00:00Z"
    note = await client.get(f"/api/v1/notes/{made['note_id']}", headers=review.clinic.headers)
    assert note.status == 200, await note.text()
    signed = await note.json()
    assert signed["status"] == "signed"
    assert signed["recommendation_id"] == made["id"]
    assert signed["spoke_id"] == review.clinic.id
    assert signed["consultant_id"] == review.consultant.id
    sections = signed["sections"]
    assert sections["recommendations"]["medications"] == (
        "Adjust medication: Start sertraline 50 mg daily."
    )
    assert sections["recommendations"]["therapy"] == ""
    assert "week 6 of treatment" in sections["assessment"]
    assert "PHQ-9 9" in sections["assessment"]
    assert "case review" in sections["follow_up"]
    event = await conn.fetchval(
        "SELECT payload FROM outbox WHERE spoke_id = $1 AND event_type = 'note.signed'",
        review.clinic.id,
    )
    assert event["data"]["recommendation_id"] == made["id"]
    assert event["data"]["note_id"] == made["note_id"]

    agenda = await read_agenda(client, review.booking_id, hub)
    # Reviewed now, with nothing else raised: the patient leaves the agenda, and the review
    # lists what it decided.
    assert names_of(review, agenda) == [n for n in ORDER if n != "never_reviewed"]
    assert [r["id"] for r in agenda["recorded"]] == [made["id"]]
    hub_caller = Caller("hub_admin", "hub-test", KIND_SCOPES["hub_admin"])
    async with conn.transaction():
        [row] = await registry.caseload(
            conn,
            hub_caller,
            Trail(hub_caller.actor),
            today=TODAY,
            episode_ids=[review.episodes["never_reviewed"]],
        )
    assert row.flags == ()
    assert row.last_review_at == BEGUN + timedelta(hours=1)


async def test_an_oud_patients_medication_advice_goes_in_the_moud_field_and_stays_listed(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)

    made = await recommend(
        client, review, "moud_gap", network.hub_admin_headers(), ADVICE | {"choice": "refer"}
    )
    moud = await recommend(
        client,
        review,
        "positive_screen",
        network.hub_admin_headers(),
        ADVICE | {"choice": "no_change"},
    )

    notes = (await (await client.get("/api/v1/notes", headers=review.clinic.headers)).json())[
        "notes"
    ]
    by_id = {n["id"]: n["sections"]["recommendations"] for n in notes}
    assert by_id[made["note_id"]]["referrals"] == "Refer: Start sertraline 50 mg daily."
    assert by_id[moud["note_id"]]["moud"] == "No change: Start sertraline 50 mg daily."
    agenda = await read_agenda(client, review.booking_id, review.clinic.headers)
    # Reviewed, but a missed dose is still a gap: the patient stays, marked done in this review.
    item = next(i for i in agenda["items"] if i["episode_id"] == made["episode_id"])
    assert item["flags"] == ["moud_gap"]
    assert item["recommended_in_this_review"] is True
    assert item["last_recommendation"]["id"] == made["id"]


async def test_the_same_idempotency_key_records_it_once(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    headers = network.consultant_headers(review.consultant.id) | {"Idempotency-Key": "rec-1"}

    first = await recommend(client, review, "safety", headers)
    again = await recommend(client, review, "safety", headers)

    assert again == first
    assert await written(conn) == (3, 1, 1)  # two from the earlier review; one note, one event


async def test_a_second_recommendation_for_the_patient_in_the_review_is_409(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    await recommend(client, review, "safety", hub)
    before = await written(conn)

    refused = await recommend(client, review, "safety", hub, status=409)

    assert "amend its note" in refused["detail"]
    assert await written(conn) == before


async def test_a_review_that_has_not_begun_or_was_cancelled_is_409(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    await conn.execute(
        "UPDATE bookings SET status = 'cancelled', cancelled_at = $2, cancel_reason = 'x'"
        " WHERE id = $1",
        review.others_review_id,
        BEGUN,
    )
    before = await written(conn)

    early = await client.post(
        path(review.to_come_id, review.episodes["safety"]), json=ADVICE, headers=hub
    )
    assert early.status == 409, await early.text()
    assert (await early.json())["detail"] == "the case review has not begun"
    cancelled = await client.post(
        path(review.others_review_id, review.episodes["safety"]),
        json=ADVICE,
        headers=network.hub_admin_headers(),
    )
    assert cancelled.status == 409, await cancelled.text()
    assert (await cancelled.json())["detail"] == "the case review was cancelled"
    assert await written(conn) == before
    # At its start, the review has begun.
    clock.now = review_start = BEGUN + timedelta(weeks=1, hours=3)
    assert review_start.isoformat() == "2027-03-08T17:00:00+00:00"
    on_time = await client.post(
        path(review.to_come_id, review.episodes["safety"]), json=ADVICE, headers=hub
    )
    assert on_time.status == 201, await on_time.text()


async def test_who_may_record_it(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    before = await written(conn)
    hub = network.consultant_headers(review.consultant.id)

    clinic = await recommend(client, review, "safety", review.clinic.headers, status=403)
    assert clinic["status"] == 403
    await recommend(
        client, review, "safety", network.consultant_headers(review.other_consultant.id), status=404
    )
    for name in ("other_clinic", "closed"):
        await recommend(client, review, name, hub, status=404)
    missing = await client.post(path(review.booking_id, uuid.uuid4()), json=ADVICE, headers=hub)
    assert missing.status == 404
    video = await client.post(
        path(review.video_id, review.episodes["safety"]), json=ADVICE, headers=hub
    )
    assert video.status == 404
    assert await written(conn) == before


async def test_bad_input_names_its_field_and_writes_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    before = await written(conn)

    for body, field in (
        ({"choice": "shrug", "text": "Hmm."}, "choice"),
        ({"text": "Hmm."}, "choice"),
        ({"choice": "refer", "text": ""}, "text"),
        ({"choice": "refer", "text": "   "}, "text"),
        ({"choice": "refer", "text": "x" * 4001}, "text"),
        ({"choice": "refer"}, "text"),
    ):
        refused = await recommend(client, review, "safety", hub, body, status=422)
        assert [e["field"] for e in refused["errors"]] == [field], body
    assert await written(conn) == before


async def test_its_note_is_amended_through_the_note_api(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    review = await case_review(network, conn)
    hub = network.consultant_headers(review.consultant.id)
    made = await recommend(client, review, "safety", hub)
    first = await (await client.get(f"/api/v1/notes/{made['note_id']}", headers=hub)).json()
    sections = first["sections"] | {"follow_up": "Call the patient today; review next week."}

    others = await client.post(
        f"/api/v1/recommendations/{made['id']}/notes",
        json={"sections": sections},
        headers=network.consultant_headers(review.other_consultant.id),
    )
    assert others.status == 404
    clinics = await client.post(
        f"/api/v1/recommendations/{made['id']}/notes",
        json={"sections": sections},
        headers=review.clinic.headers,
    )
    assert clinics.status == 403
    draft = await client.post(
        f"/api/v1/recommendations/{made['id']}/notes", json={"sections": sections}, headers=hub
    )
    assert draft.status == 201, await draft.text()
    amended = await draft.json()
    assert amended["version"] == 2
    assert amended["recommendation_id"] == made["id"]
    assert amended["spoke_id"] == review.clinic.id
    sign = await client.post(f"/api/v1/notes/{amended['id']}/sign", headers=hub)
    assert sign.status == 200, await sign.text()

    versions = await client.get(
        f"/api/v1/recommendations/{made['id']}/notes", headers=review.clinic.headers
    )
    assert [n["version"] for n in (await versions.json())["notes"]] == [1, 2]
    events = await conn.fetch(
        "SELECT event_type FROM outbox WHERE spoke_id = $1 ORDER BY id", review.clinic.id
    )
    assert [e["event_type"] for e in events] == ["note.signed", "note.amended"]
    agenda = await read_agenda(client, review.booking_id, hub)
    [recorded] = agenda["recorded"]
    assert recorded["note_id"] == amended["id"]


async def test_the_case_review_operations_answer_as_the_document_says(
    client: TestClient, network: Network, clock: Clock
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    api = Contract(client, doc)

    await cover_case_review(api, network)

    assert api.covered == {
        ("get", "/api/v1/bookings/{id}/agenda"),
        ("post", "/api/v1/bookings/{id}/agenda/{episode_id}/recommendation"),
        ("get", "/api/v1/notes/{id}"),
        ("post", "/api/v1/recommendations/{id}/notes"),
        ("get", "/api/v1/recommendations/{id}/notes"),
    }
