"""A consent that stops being in force stops what it was to carry: a revocation holds the
consent's unsent notes (or re-routes them to another covering consent in force) and the next
note; the worker's claim never leases an event whose consent was revoked or has expired (in
the clinic's zone) since it was queued, retries included; what went before stays sent."""

from __future__ import annotations

import json
import uuid
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import asyncpg
import pytest
from pytest_aiohttp import AiohttpServer

from consults import delivery_store, disclosure
from spokes import consent_store
from telehub.settings import Settings
from tests.factories import Network
from tests.factories.network import give_consent
from tests.integration.delivery_support import clinic_receivers, deliver_to_receivers
from tests.integration.test_consent_gate_delivery import NOW, Scene, make_scene


@pytest.fixture
async def scene(pool: asyncpg.Pool, network: Network, aiohttp_server: AiohttpServer) -> Scene:
    """A clinic whose webhook (full payloads) is a loopback receiver, and who answers."""
    return await make_scene(pool, network, aiohttp_server)


async def _event(pool: asyncpg.Pool, note_id: uuid.UUID) -> asyncpg.Record:
    async with pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT id, consent_id, held_at, held_reason, delivered_at, payload"
            " FROM outbox WHERE note_id = $1",
            note_id,
        )
    assert row is not None
    return row


async def _only_consent(pool: asyncpg.Pool, patient_id: uuid.UUID) -> consent_store.Consent:
    async with pool.acquire() as conn:
        [consent] = await consent_store.of_patient(conn, patient_id)
    return consent


async def test_a_revocation_holds_the_unsent_note_and_the_next_one_what_went_stays_sent(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke)
    consent = await _only_consent(pool, patient.id)
    sent = await scene.answer(patient, at=NOW - timedelta(hours=2))
    assert await deliver_to_receivers(pool, settings) == 1
    waiting = await scene.answer(patient, at=NOW - timedelta(hours=1))  # queued, not yet sent

    revoked = await scene.revoke(consent.id, on=date(2026, 3, 2))

    assert revoked.held == 1
    after = await scene.answer(patient)
    assert await deliver_to_receivers(pool, settings) == 0
    assert [e["data"]["note_id"] for e in scene.received] == [str(sent.id)]
    for note in (waiting, after):
        event = await _event(pool, note.id)
        assert event["held_at"] is not None and event["delivered_at"] is None
    assert (await _event(pool, waiting.id))["held_reason"] == "consent revoked on 2026-03-02"
    assert (await _event(pool, sent.id))["delivered_at"] is not None
    async with pool.acquire() as conn:
        held = await disclosure.held_notes(conn, spoke_id=scene.spoke.id, patient_id=patient.id)
        accounted = await conn.fetchval(
            "SELECT count(*) FROM disclosures WHERE patient_id = $1", patient.id
        )
    assert [h.note_id for h in held] == [waiting.id, after.id]
    assert accounted == 1  # the one sent before, under the consent then in force


async def test_a_revocation_reroutes_unsent_notes_to_another_consent_in_force(
    pool: asyncpg.Pool, scene: Scene, network: Network, settings: Settings
) -> None:
    patient = await network.patient(scene.spoke)
    older = await _only_consent(pool, patient.id)
    async with pool.acquire() as conn:
        newer = await give_consent(conn, patient, signed_on=date(2025, 5, 1))
    note = await scene.answer(patient)
    assert (await _event(pool, note.id))["consent_id"] == newer.id  # newest signed wins

    revoked = await scene.revoke(newer.id, on=date(2026, 1, 2))

    assert revoked.held == 0
    event = await _event(pool, note.id)
    assert event["consent_id"] == older.id and event["held_at"] is None
    assert event["payload"]["data"]["part2"]["consent"]["id"] == str(older.id)
    assert await deliver_to_receivers(pool, settings) == 1
    [received] = scene.received
    assert received["data"]["part2"]["consent"]["id"] == str(older.id)
    async with pool.acquire() as conn:
        under = await conn.fetchval(
            "SELECT consent_id FROM disclosures WHERE note_id = $1", note.id
        )
    assert under == older.id


async def test_the_claim_never_leases_an_event_whose_consent_was_revoked_since_retries_too(
    pool: asyncpg.Pool, scene: Scene
) -> None:
    patient = await scene.network.patient(scene.spoke)
    consent = await _only_consent(pool, patient.id)
    first = await scene.answer(patient, at=NOW - timedelta(minutes=2))
    retried = await scene.answer(patient, at=NOW - timedelta(minutes=1))
    async with pool.acquire() as conn:
        # The second has failed once already: a retry waiting for its turn.
        await conn.execute(
            "UPDATE outbox SET attempts = 1, last_status = 503 WHERE note_id = $1", retried.id
        )
        # The revocation as only the consents table knows it (no withholding ran): the claim
        # itself must refuse.
        await consent_store.mark_revoked(
            conn,
            consent.id,
            revoked_on=date(2026, 2, 1),
            how="verbal",
            revoked_at=NOW,
            revoked_by="test",
        )
        claimed = await delivery_store.claim_due(conn, [scene.spoke.id], lease_seconds=60, limit=10)
        assert claimed == []
        rows = await conn.fetch(
            "SELECT held_reason, leased_until FROM outbox WHERE note_id = ANY ($1::uuid[])",
            [first.id, retried.id],
        )
    assert [(r["held_reason"], r["leased_until"]) for r in rows] == [
        ("consent revoked on 2026-02-01", None),
        ("consent revoked on 2026-02-01", None),
    ]


def _today_in(zone: str) -> date:
    return datetime.now(ZoneInfo(zone)).date()


# Fourteen hours ahead of UTC and eleven behind: their dates always differ by at least a day.
AHEAD, BEHIND = "Pacific/Kiritimati", "Pacific/Pago_Pago"


@pytest.mark.parametrize(("zone", "delivered"), [(BEHIND, True), (AHEAD, False)])
async def test_a_consent_expiring_today_where_one_clinic_is_has_expired_where_another_is(
    pool: asyncpg.Pool,
    network: Network,
    aiohttp_server: AiohttpServer,
    settings: Settings,
    zone: str,
    delivered: bool,
) -> None:
    scene = await make_scene(pool, network, aiohttp_server)
    async with pool.acquire() as conn:
        await conn.execute("UPDATE spokes SET timezone = $2 WHERE id = $1", scene.spoke.id, zone)
    patient = await network.patient(scene.spoke, consent=None)
    async with pool.acquire() as conn:
        # In force through today in Pago Pago: already over in Kiritimati.
        consent = await give_consent(conn, patient, expires_on=_today_in(BEHIND))
    # Signed two days ago, while the consent was in force in both zones: queued under it.
    note = await scene.answer(patient, at=NOW - timedelta(days=2))
    assert (await _event(pool, note.id))["consent_id"] == consent.id

    sent = await deliver_to_receivers(pool, settings)

    event = await _event(pool, note.id)
    if delivered:
        assert sent == 1 and event["delivered_at"] is not None
        assert [e["data"]["note_id"] for e in scene.received] == [str(note.id)]
    else:
        assert sent == 0 and scene.received == []
        assert event["held_reason"] == f"consent expired after {_today_in(BEHIND).isoformat()}"


async def test_an_expired_consents_notes_go_under_another_consent_still_in_force(
    pool: asyncpg.Pool, scene: Scene, network: Network, settings: Settings
) -> None:
    patient = await network.patient(scene.spoke)  # TPO since 2000, until revoked
    lasting = await _only_consent(pool, patient.id)
    async with pool.acquire() as conn:
        lapsing = await give_consent(
            conn, patient, signed_on=date(2024, 1, 1), expires_on=date(2024, 12, 31)
        )
    # Signed back in 2024, under the newest consent then; sent only now.
    note = await scene.answer(patient, at=datetime.fromisoformat("2024-06-03T15:00:00+00:00"))
    assert (await _event(pool, note.id))["consent_id"] == lapsing.id

    assert await deliver_to_receivers(pool, settings) == 1

    [received] = scene.received
    assert received["data"]["part2"]["consent"]["id"] == str(lasting.id)
    assert (await _event(pool, note.id))["consent_id"] == lasting.id


async def test_two_clinics_receivers_only_one_patient_held(
    pool: asyncpg.Pool, network: Network, aiohttp_server: AiohttpServer, settings: Settings
) -> None:
    """A held note of one clinic's patient holds nothing else back: the other clinic's note,
    and the same clinic's other patient's, go."""
    scene = await make_scene(pool, network, aiohttp_server)
    other_clinic = await network.spoke()
    async with pool.acquire() as conn:
        others = await clinic_receivers(conn, aiohttp_server, [other_clinic.id])
    without = await network.patient(scene.spoke, consent=None)
    with_consent = await network.patient(scene.spoke)
    theirs = await network.patient(other_clinic)
    held = await scene.answer(without)
    mine = await scene.answer(with_consent)
    elsewhere = await scene.answer(theirs)

    assert await deliver_to_receivers(pool, settings) == 2

    assert [e["data"]["note_id"] for e in scene.received] == [str(mine.id)]
    [(_, body)] = others.received[other_clinic.id]
    assert json.loads(body)["data"]["note_id"] == str(elsewhere.id)
    assert (await _event(pool, held.id))["held_at"] is not None
