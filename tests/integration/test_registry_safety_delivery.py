"""`registry.safety_flag` reaches the episode's clinic through the real delivery worker, signed
like every webhook, and only that clinic; it names the episode, patient and measure by id and
carries no answer and no score. A measure whose transaction rolls back queues nothing."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import asyncpg
import pytest
from pytest_aiohttp import AiohttpServer

from telehub.settings import Settings
from tests.factories import Network, care_clinic, phq9
from tests.factories.care import enrol, measure
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)


async def test_the_clinic_receives_a_signed_safety_flag_without_answers_and_no_one_else(
    pool: asyncpg.Pool,
    conn: asyncpg.Connection,
    network: Network,
    settings: Settings,
    aiohttp_server: AiohttpServer,
) -> None:
    ours = await care_clinic(network)
    other = await care_clinic(network, consultant=ours.consultant)
    patient = await network.patient(ours.spoke)
    receivers = await clinic_receivers(conn, aiohttp_server, [ours.spoke.id, other.spoke.id])
    episode = await enrol(
        conn,
        ours.spoke,
        patient.id,
        care_manager_id=ours.care_manager.id,
        consultant_id=ours.consultant.id,
        started_on=date(2027, 2, 1),
        now=NOW,
    )
    items = phq9(23, item9=3)
    async with conn.transaction():
        recorded = await measure(conn, episode, "phq9", date(2027, 3, 1), items=items, now=NOW)

    assert await deliver_to_receivers(pool, settings) == 1

    assert receivers.received[other.spoke.id] == []
    event = receivers.event_of(ours.spoke.id)
    assert event["type"] == "registry.safety_flag"
    assert event["data"]["episode_id"] == str(episode.id)
    assert event["data"]["patient_id"] == str(patient.id)
    assert event["data"]["measure_id"] == str(recorded.id)
    body = json.dumps(event)
    assert "items" not in body and "score" not in body and "severe" not in body
    assert set(event["data"]) == {
        "episode_id",
        "spoke_id",
        "patient_id",
        "measure_id",
        "measured_on",
        "links",
    }
    assert patient.family_name not in body and patient.mrn not in body


async def test_a_measure_rolled_back_queues_no_safety_flag(
    conn: asyncpg.Connection, network: Network
) -> None:
    clinic = await care_clinic(network)
    patient = await network.patient(clinic.spoke)
    episode = await enrol(
        conn,
        clinic.spoke,
        patient.id,
        care_manager_id=clinic.care_manager.id,
        consultant_id=clinic.consultant.id,
        started_on=date(2027, 2, 1),
        now=NOW,
    )

    class Abandoned(Exception):
        pass

    with pytest.raises(Abandoned):
        async with conn.transaction():
            await measure(conn, episode, "phq9", date(2027, 3, 1), items=phq9(9, item9=1), now=NOW)
            assert await conn.fetchval("SELECT count(*) FROM outbox") == 1
            raise Abandoned

    assert await conn.fetchval("SELECT count(*) FROM outbox") == 0
    assert await conn.fetchval("SELECT count(*) FROM care_measures") == 0
