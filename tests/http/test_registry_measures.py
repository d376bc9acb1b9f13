"""Measures and contacts through the API: refusals name their field and write nothing, the
score is computed, and a PHQ-9 whose latest answer to item 9 is above 0 queues the clinic's
safety webhook, with no answers or score in it, nor in any log line."""

from __future__ import annotations

import io
import json
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import CareClinic, Network, care_clinic, phq9
from tests.factories.care import enrolled, fields_named, registry_counts
from tests.log_capture import log_lines_fixture, logged

__all__ = ["log_lines_fixture"]


async def _oud(client: TestClient, network: Network) -> tuple[CareClinic, dict[str, Any]]:
    addiction = await network.consultant([], role="addiction_medicine_specialist")
    clinic = await care_clinic(network, consultant=addiction)
    return await enrolled(client, network, clinic, program="oud")


async def _post(
    client: TestClient, clinic: CareClinic, episode: dict[str, Any], body: dict[str, Any]
) -> Any:
    return await client.post(
        f"/api/v1/episodes/{episode['id']}/measures", json=body, headers=clinic.spoke.headers
    )


async def _outbox(pool: asyncpg.Pool) -> list[dict[str, Any]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT spoke_id, event_type, payload FROM outbox ORDER BY id")
    return [dict(r) for r in rows]


async def test_a_phq9_answers_with_its_computed_score_and_severity(
    client: TestClient, network: Network
) -> None:
    clinic, episode = await enrolled(client, network)
    items = [3, 3, 2, 2, 1, 1, 1, 1, 0]

    response = await _post(
        client, clinic, episode, {"kind": "phq9", "measured_on": "2027-02-20", "items": items}
    )
    body = await response.json()

    assert response.status == 201
    assert response.headers["Location"].endswith(f"/api/v1/episodes/{episode['id']}")
    assert body["items"] == items
    assert body["score"] == 14
    assert body["severity"] == "moderate"


async def test_a_gad7_at_15_is_severe(client: TestClient, network: Network) -> None:
    clinic, episode = await enrolled(client, network)
    response = await _post(
        client,
        clinic,
        episode,
        {"kind": "gad7", "measured_on": "2027-03-01", "items": [3, 3, 3, 3, 3, 0, 0]},
    )
    assert response.status == 201
    assert (await response.json())["score"] == 15
    assert (await response.json())["severity"] == "severe"


QUESTIONNAIRE_REFUSALS = [
    ({"items": [0, 1, 2, 3, 4, 0, 0, 0, 0]}, "items.4", None),
    ({"items": [0, 1, 2, 3, -1, 0, 0, 0, 0]}, "items.4", None),
    ({"items": [1] * 8}, "items", None),
    ({"items": [1] * 10}, "items", None),
    ({"items": [1, 1, 1, 1, 1, 1, 1, 1, "2"]}, "items.8", None),
    ({"items": [1] * 9, "total": 9}, "total", "the total is computed from the items, never sent"),
    ({"items": [1] * 9, "score": 9}, "score", "the total is computed from the items, never sent"),
    ({"measured_on": "2027-03-02"}, "measured_on", "is in the future"),
    ({"measured_on": "2027-01-31"}, "measured_on", "is before the episode began"),
    ({"adherence": "stopped"}, "adherence", None),
    ({"kind": "bdi"}, "kind", None),
    ({"items": None}, "items", None),
]


@pytest.mark.parametrize(("change", "field", "detail"), QUESTIONNAIRE_REFUSALS)
async def test_a_bad_phq9_is_refused_naming_the_field_and_nothing_is_written(
    client: TestClient,
    network: Network,
    pool: asyncpg.Pool,
    change: dict[str, Any],
    field: str,
    detail: str | None,
) -> None:
    clinic, episode = await enrolled(client, network)
    body = {"kind": "phq9", "measured_on": "2027-02-20", "items": [1] * 9, **change}
    before = await registry_counts(pool)

    response = await _post(client, clinic, episode, body)
    problem = await response.json()

    assert response.status == 422, problem
    assert fields_named(problem) == [field]
    if detail is not None:
        assert problem["errors"][0]["detail"] == detail
    assert await registry_counts(pool) == before


async def test_a_gad7_needs_seven_answers(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    before = await registry_counts(pool)
    response = await _post(
        client, clinic, episode, {"kind": "gad7", "measured_on": "2027-02-20", "items": [1] * 9}
    )
    assert response.status == 422
    assert fields_named(await response.json()) == ["items"]
    assert await registry_counts(pool) == before


@pytest.mark.parametrize(
    "body",
    [
        {
            "kind": "moud",
            "adherence": "taking_as_prescribed",
            "medication": "methadone",
            "daily_dose_mg": 80,
        },
        {"kind": "urine_drug_screen", "results": {"fentanyl": "positive"}},
    ],
)
async def test_oud_measures_are_refused_on_a_collaborative_care_episode(
    client: TestClient, network: Network, pool: asyncpg.Pool, body: dict[str, Any]
) -> None:
    clinic, episode = await enrolled(client, network)
    before = await registry_counts(pool)
    response = await _post(client, clinic, episode, {**body, "measured_on": "2027-02-20"})
    assert response.status == 422
    assert fields_named(await response.json()) == ["kind"]
    assert await registry_counts(pool) == before


async def test_moud_and_screen_measures_on_an_oud_episode(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await _oud(client, network)

    moud = await _post(
        client,
        clinic,
        episode,
        {
            "kind": "moud",
            "measured_on": "2027-02-20",
            "adherence": "missed_doses",
            "medication": "buprenorphine_naloxone",
            "daily_dose_mg": 16,
        },
    )
    screen = await _post(
        client,
        clinic,
        episode,
        {
            "kind": "urine_drug_screen",
            "measured_on": "2027-02-21",
            "results": {"buprenorphine": "positive", "fentanyl": "negative"},
        },
    )
    bad_medication = await _post(
        client,
        clinic,
        episode,
        {
            "kind": "moud",
            "measured_on": "2027-02-20",
            "adherence": "stopped",
            "medication": "aspirin",
        },
    )
    bad_substance = await _post(
        client,
        clinic,
        episode,
        {"kind": "urine_drug_screen", "measured_on": "2027-02-21", "results": {"tea": "positive"}},
    )
    items_on_moud = await _post(
        client,
        clinic,
        episode,
        {
            "kind": "moud",
            "measured_on": "2027-02-20",
            "adherence": "stopped",
            "medication": "methadone",
            "items": [1] * 9,
        },
    )

    assert moud.status == 201
    assert (await moud.json())["daily_dose_mg"] == 16.0
    assert (await moud.json())["score"] is None
    assert screen.status == 201
    assert (await screen.json())["results"] == {
        "buprenorphine": "positive",
        "fentanyl": "negative",
    }
    assert bad_medication.status == 422
    assert fields_named(await bad_medication.json()) == ["medication"]
    assert bad_substance.status == 422
    assert fields_named(await bad_substance.json())[0].startswith("results")
    assert items_on_moud.status == 422
    assert fields_named(await items_on_moud.json()) == ["items"]
    assert (await registry_counts(pool))["care_measures"] == 2


async def test_nothing_is_recorded_in_a_closed_episode(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    await client.post(
        f"/api/v1/episodes/{episode['id']}/close",
        json={"ended_on": "2027-02-28", "end_reason": "declined"},
        headers=clinic.spoke.headers,
    )
    before = await registry_counts(pool)

    measure = await _post(
        client, clinic, episode, {"kind": "phq9", "measured_on": "2027-02-20", "items": [1] * 9}
    )
    contact = await client.post(
        f"/api/v1/episodes/{episode['id']}/contacts",
        json={
            "contact_on": "2027-02-20",
            "minutes": 10,
            "kind": "phone",
            "who": "patient",
            "counts": True,
        },
        headers=clinic.spoke.headers,
    )

    assert measure.status == contact.status == 409
    assert await registry_counts(pool) == before


async def test_a_latest_phq9_with_item_9_above_0_queues_the_safety_webhook_without_answers(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    items = phq9(17, item9=2)

    response = await _post(
        client, clinic, episode, {"kind": "phq9", "measured_on": "2027-03-01", "items": items}
    )
    measure = await response.json()
    [event] = await _outbox(pool)

    assert response.status == 201
    assert event["spoke_id"] == clinic.spoke.id
    assert event["event_type"] == "registry.safety_flag"
    payload = event["payload"]
    assert payload["type"] == "registry.safety_flag"
    assert payload["timestamp"] == "2027-03-01T15:00:00Z"
    data = payload["data"]
    assert data["episode_id"] == episode["id"]
    assert data["patient_id"] == episode["patient_id"]
    assert data["measure_id"] == measure["id"]
    assert data["links"]["episode"] == f"http://telehub.test/api/v1/episodes/{episode['id']}"
    text = json.dumps(payload)
    assert "items" not in text and "score" not in text and "severity" not in text
    assert str(items) not in text
    # Identifiers, a date and links only: nothing else to carry an answer or a score.
    assert set(data) == {
        "episode_id",
        "spoke_id",
        "patient_id",
        "measure_id",
        "measured_on",
        "links",
    }
    assert set(payload) == {"type", "timestamp", "data"}


async def test_no_safety_webhook_for_item_9_at_0(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    response = await _post(
        client,
        clinic,
        episode,
        {"kind": "phq9", "measured_on": "2027-03-01", "items": phq9(24, item9=0)},
    )
    assert response.status == 201
    assert await _outbox(pool) == []


async def test_no_safety_webhook_when_an_older_phq9_is_entered_late(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    newer = await _post(
        client, clinic, episode, {"kind": "phq9", "measured_on": "2027-02-27", "items": phq9(6)}
    )
    older = await _post(
        client,
        clinic,
        episode,
        {"kind": "phq9", "measured_on": "2027-02-10", "items": phq9(12, item9=1)},
    )
    assert newer.status == older.status == 201
    assert await _outbox(pool) == []

    newest = await _post(
        client,
        clinic,
        episode,
        {"kind": "phq9", "measured_on": "2027-02-28", "items": phq9(8, item9=1)},
    )
    assert newest.status == 201
    assert [e["event_type"] for e in await _outbox(pool)] == ["registry.safety_flag"]


async def test_a_posted_phq9s_answers_and_score_never_reach_a_log_line(
    client: TestClient, network: Network, log_lines: io.StringIO
) -> None:
    clinic, episode = await enrolled(client, network, treating_clinician="Dr. Quillfeather")
    items = [3, 3, 3, 3, 3, 3, 3, 2, 2]  # 25: a total found nowhere else in this test

    response = await _post(
        client, clinic, episode, {"kind": "phq9", "measured_on": "2027-03-01", "items": items}
    )
    refused = await _post(
        client,
        clinic,
        episode,
        {"kind": "phq9", "measured_on": "2027-03-01", "items": [3, 3, 3, 3, 3, 3, 3, 2, 7]},
    )
    read = await client.get(f"/api/v1/episodes/{episode['id']}", headers=clinic.spoke.headers)

    assert response.status == 201 and (await response.json())["score"] == 25
    assert refused.status == 422
    assert read.status == 200
    lines = logged(log_lines)
    assert lines, "the requests were logged"
    for line in lines:
        text = json.dumps(line)
        assert "3, 3, 3" not in text and "3,3,3" not in text
        assert '"score"' not in text and "items" not in text and "severity" not in text
        assert "Quillfeather" not in text
        for key, value in line.items():
            # The total as a number or text (a duration of 25.0 ms is a float, not a score).
            assert not (type(value) is int and value == 25), (key, line)
            assert value != "25", (key, line)


async def test_contacts_refuse_bad_fields_and_record_a_good_one(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    clinic, episode = await enrolled(client, network)
    url = f"/api/v1/episodes/{episode['id']}/contacts"
    good = {
        "contact_on": "2027-02-22",
        "minutes": 30,
        "kind": "in_person",
        "who": "patient",
        "counts": True,
    }
    before = await registry_counts(pool)

    for change, field in [
        ({"minutes": 0}, "minutes"),
        ({"minutes": 601}, "minutes"),
        ({"kind": "fax"}, "kind"),
        ({"contact_on": "2027-03-02"}, "contact_on"),
        ({"contact_on": "2027-01-31"}, "contact_on"),
        ({"who": ""}, "who"),
        ({"counts": None}, "counts"),
    ]:
        response = await client.post(url, json={**good, **change}, headers=clinic.spoke.headers)
        assert response.status == 422, change
        assert fields_named(await response.json()) == [field]
    assert await registry_counts(pool) == before

    ok = await client.post(url, json=good, headers=clinic.spoke.headers)
    assert ok.status == 201
    body = await ok.json()
    assert (body["minutes"], body["kind"], body["counts"]) == (30, "in_person", True)
