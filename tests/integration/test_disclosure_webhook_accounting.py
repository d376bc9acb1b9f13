"""Every webhook delivered writes exactly one row of the accounting of disclosures, in the
same statement that marks it delivered; a held note is counted as held in the measures, not
as unacknowledged; the hub sees held events, with their reason, through the deliveries API,
and cannot push one out by hand."""

from __future__ import annotations

from datetime import timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpServer

from consults import delivery_store, disclosure, measure_store
from telehub.settings import Settings
from tests.factories import Network
from tests.integration.delivery_support import deliver_to_receivers
from tests.integration.test_consent_gate_delivery import NOW, Scene, make_scene


@pytest.fixture
async def scene(pool: asyncpg.Pool, network: Network, aiohttp_server: AiohttpServer) -> Scene:
    """A clinic whose webhook (full payloads) is a loopback receiver, and who answers."""
    return await make_scene(pool, network, aiohttp_server)


async def test_each_delivered_note_writes_exactly_one_disclosure_row(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke)
    notes = [await scene.answer(patient, at=NOW - timedelta(minutes=m)) for m in (3, 2, 1)]
    held_patient = await scene.network.patient(scene.spoke, consent=None)
    await scene.answer(held_patient)

    assert await deliver_to_receivers(pool, settings) == 3

    async with pool.acquire() as conn:
        rows = await conn.fetch(
            """
            SELECT d.note_id, d.note_version, d.patient_id, d.spoke_id, d.recipient_spoke_id,
                   d.channel, d.consent_id, d.disclosed_by, d.disclosed_at,
                   o.webhook_id, o.consent_id AS sent_under, o.delivered_at
            FROM disclosures d JOIN outbox o ON o.note_id = d.note_id
            ORDER BY d.id
            """
        )
        # Marking one delivered again (a late duplicate outcome) accounts nothing more.
        event_id = await conn.fetchval("SELECT id FROM outbox WHERE note_id = $1", notes[0].id)
        await delivery_store.mark_delivered(conn, event_id, 200)
        total = await conn.fetchval("SELECT count(*) FROM disclosures")
    assert total == 3
    assert sorted(r["note_id"] for r in rows) == sorted(n.id for n in notes)
    for row in rows:
        assert row["channel"] == "webhook"
        assert row["disclosed_by"] == f"webhook:{row['webhook_id']}"
        assert row["consent_id"] == row["sent_under"] is not None
        assert (row["patient_id"], row["spoke_id"]) == (patient.id, scene.spoke.id)
        assert row["recipient_spoke_id"] == scene.spoke.id and row["note_version"] == 1
        assert row["disclosed_at"] == row["delivered_at"]  # one statement, one moment


async def test_a_failed_attempt_is_no_disclosure(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke)
    await scene.answer(patient)
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE spokes SET webhook_url = 'http://receiver:9/nowhere' WHERE id = $1",
            scene.spoke.id,
        )
    assert await deliver_to_receivers(pool, settings) == 1  # attempted, refused
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT count(*) FROM disclosures") == 0
        [pending] = await delivery_store.list_deliveries(
            conn, state="pending", spoke_id=scene.spoke.id, limit=5
        )
    assert pending.last_error is not None and pending.delivered_at is None


async def test_a_held_note_is_counted_held_not_unacknowledged(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    waiting = await scene.network.patient(scene.spoke, consent=None)
    covered = await scene.network.patient(scene.spoke)
    await scene.answer(waiting, at=NOW - timedelta(hours=2))
    sent = await scene.answer(covered, at=NOW - timedelta(hours=1))

    async with pool.acquire() as conn:
        found = await measure_store.program_measures(
            conn, NOW - timedelta(days=1), NOW + timedelta(hours=1), NOW
        )
    overall = next(m for m in found if m.level == "overall")
    clinic = next(m for m in found if m.level == "spoke" and m.key == scene.spoke.id)
    for measures in (overall, clinic):
        assert (measures.notes_signed, measures.unacknowledged, measures.held) == (2, 1, 1)
        assert measures.oldest_unacknowledged_at == sent.signed_at
        assert measures.oldest_held_at == NOW - timedelta(hours=2)

    await scene.record_consent(waiting)
    async with pool.acquire() as conn:
        found = await measure_store.program_measures(
            conn, NOW - timedelta(days=1), NOW + timedelta(hours=1), NOW
        )
    overall = next(m for m in found if m.level == "overall")
    assert (overall.unacknowledged, overall.held, overall.oldest_held_at) == (2, 0, None)


async def test_the_hub_sees_held_deliveries_with_their_reason_and_cannot_retry_them(
    pool: asyncpg.Pool, scene: Scene, network: Network, client: TestClient
) -> None:
    patient = await network.patient(scene.spoke, consent=None)
    note = await scene.answer(patient)
    hub = network.hub_admin_headers()

    held = await client.get("/api/v1/deliveries", params={"state": "held"}, headers=hub)
    pending = await client.get("/api/v1/deliveries", params={"state": "pending"}, headers=hub)
    measures = await client.get(
        "/api/v1/measures",
        params={
            "start": (NOW - timedelta(days=1)).isoformat(),
            "end": (NOW + timedelta(days=1)).isoformat(),
        },
        headers=hub,
    )

    assert held.status == 200 and pending.status == 200 and measures.status == 200
    [shown] = (await held.json())["deliveries"]
    assert (await pending.json())["deliveries"] == []
    assert shown["state"] == "held" and shown["event_type"] == "note.signed"
    assert shown["held_reason"] == disclosure.missing_for("econsult_answer")
    assert shown["held_at"] is not None
    assert (await measures.json())["overall"]["held"] == 1
    retry = await client.post(f"/api/v1/deliveries/{shown['id']}/retry", headers=hub)
    assert retry.status == 409
    assert "consent" in (await retry.json())["detail"]
    async with pool.acquire() as conn:
        [still] = await disclosure.held_notes(conn, spoke_id=scene.spoke.id)
    assert still.note_id == note.id
    unknown = await client.get("/api/v1/deliveries", params={"state": "lost"}, headers=hub)
    assert unknown.status == 422
    assert (await unknown.json())["errors"][0]["field"] == "state"


async def test_permit_and_record_disclosure_for_reads(
    pool: asyncpg.Pool, scene: Scene, network: Network
) -> None:
    patient = await network.patient(scene.spoke)
    note = await scene.answer(patient)
    other = await network.spoke()
    async with pool.acquire() as conn:
        consent = await disclosure.permit(conn, note, recipient_spoke_id=scene.spoke.id, now=NOW)
        elsewhere = await disclosure.permit(conn, note, recipient_spoke_id=other.id, now=NOW)
        assert consent is not None and elsewhere is None
        await disclosure.record_disclosure(
            conn,
            note=note,
            consent_id=consent.id,
            recipient_spoke_id=scene.spoke.id,
            channel="print",
            actor="user:7",
            request_id="req-1",
        )
        row = await conn.fetchrow("SELECT * FROM disclosures WHERE note_id = $1", note.id)
        with pytest.raises(asyncpg.IntegrityConstraintViolationError):
            await conn.execute("DELETE FROM disclosures WHERE note_id = $1", note.id)
    assert row is not None
    assert (row["channel"], row["disclosed_by"], row["request_id"]) == ("print", "user:7", "req-1")
    assert (row["consent_id"], row["note_version"]) == (consent.id, 1)
