"""The Part 2 gate at signing, through the real delivery worker and a loopback receiver: a note
of a patient without a consent in force is held (kept, not due, never sent, shown with what
is missing); recording a consent releases the held notes once each, in signing order, even
when two consents are recorded at once; counseling notes need their own consent; every
payload carries the notice, the consent's scope and the security labels."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from pytest_aiohttp import AiohttpServer

from consults import delivery_store, disclosure, part2
from consults.note_store import Note, Subject
from spokes import consent_store, consents
from spokes.store import Patient
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.settings import Settings
from tests.factories import Network, SpokeUser
from tests.factories.network import give_consent
from tests.factories.records import (
    BASE_URL,
    booking_in_store,
    econsult_in_store,
    sign_in_domain,
)
from tests.integration.delivery_support import (
    ClinicReceivers,
    clinic_receivers,
    deliver_to_receivers,
    until,
)

NOW = datetime.now(UTC)


class _LookedOnly(Exception):
    """Rolls back a transaction a test opened only to look."""


class Scene:
    """A clinic with a webhook at a loopback receiver, an e-consult service and its
    consultant, and patients; notes signed through consults.notes."""

    def __init__(
        self, pool: asyncpg.Pool, network: Network, spoke: SpokeUser, receivers: ClinicReceivers
    ) -> None:
        self.pool, self.network, self.spoke, self.receivers = pool, network, spoke, receivers
        self.service_id = 0
        self.consultant_id = 0

    @property
    def received(self) -> list[dict[str, Any]]:
        """Every event the clinic's receiver got, in arrival order."""
        return [json.loads(body) for _, body in self.receivers.received[self.spoke.id]]

    async def answer(self, patient: Patient, *, at: datetime = NOW) -> Note:
        """The consultant answers a new e-consult about the patient."""
        async with self.pool.acquire() as conn, conn.transaction():
            econsult_id = await econsult_in_store(
                conn,
                patient=patient,
                service_id=self.service_id,
                consultant_id=self.consultant_id,
                at=at - timedelta(hours=1),
            )
            return await sign_in_domain(
                conn, self.consultant_id, Subject(econsult_id=econsult_id), now=at
            )

    async def record_consent(self, patient: Patient, **fields: Any) -> consents.Recorded:
        """The clinic records a consent the patient signed (today, until revoked)."""
        clinic = Caller("spoke", self.spoke.client_id, KIND_SCOPES["spoke"], self.spoke.id)
        async with self.pool.acquire() as conn, conn.transaction():
            return await consents.record(
                conn,
                clinic,
                Trail(clinic.actor),
                patient.id,
                **{"kind": "tpo", "signed_on": date(2026, 1, 5), "expires_on": None, **fields},
                base_url=BASE_URL,
                now=NOW,
            )

    async def revoke(self, consent_id: uuid.UUID, *, on: date) -> consents.Revoked:
        """The clinic records the patient's written revocation."""
        clinic = Caller("spoke", self.spoke.client_id, KIND_SCOPES["spoke"], self.spoke.id)
        async with self.pool.acquire() as conn, conn.transaction():
            return await consents.revoke(
                conn,
                clinic,
                Trail(clinic.actor),
                consent_id,
                revoked_on=on,
                how="written",
                base_url=BASE_URL,
                now=NOW,
            )


async def make_scene(pool: asyncpg.Pool, network: Network, aiohttp_server: AiohttpServer) -> Scene:
    """A clinic whose webhook (full payloads) is a loopback receiver, and who answers."""
    spoke = await network.spoke()
    async with pool.acquire() as conn:
        receivers = await clinic_receivers(conn, aiohttp_server, [spoke.id])
    made = Scene(pool, network, spoke, receivers)
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    made.service_id = service.id
    made.consultant_id = (await network.consultant([service])).id
    return made


@pytest.fixture
async def scene(pool: asyncpg.Pool, network: Network, aiohttp_server: AiohttpServer) -> Scene:
    """A clinic whose webhook (full payloads) is a loopback receiver, and who answers."""
    return await make_scene(pool, network, aiohttp_server)


async def _events(pool: asyncpg.Pool, note_ids: list[uuid.UUID]) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        return await conn.fetch(
            """
            SELECT id, note_id, consent_id, held_at, held_reason, delivered_at,
                   next_attempt_at <= now() AS due
            FROM outbox WHERE note_id = ANY ($1::uuid[]) ORDER BY id
            """,
            note_ids,
        )


async def test_a_note_signed_without_consent_is_held_sent_nowhere_and_shown(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent=None)
    note = await scene.answer(patient)

    assert await deliver_to_receivers(pool, settings) == 0
    assert scene.received == []
    [event] = await _events(pool, [note.id])
    assert event["held_at"] is not None and event["consent_id"] is None
    assert event["held_reason"] == (
        "no consent for treatment, payment and operations in force that covers e-consult answers"
    )
    async with pool.acquire() as conn:
        [held] = await disclosure.held_notes(conn, spoke_id=scene.spoke.id)
        assert (
            await disclosure.held_notes(conn, spoke_id=scene.spoke.id, patient_id=uuid.uuid4())
            == []
        )
        [shown] = await delivery_store.list_deliveries(
            conn, state="held", spoke_id=scene.spoke.id, limit=10
        )
        assert (
            await delivery_store.list_deliveries(
                conn, state="pending", spoke_id=scene.spoke.id, limit=10
            )
            == []
        )
        payload = await conn.fetchval("SELECT payload FROM outbox WHERE id = $1", event["id"])
    assert (held.note_id, held.version, held.patient_id) == (note.id, 1, patient.id)
    assert held.missing == event["held_reason"]
    assert shown.state == "held" and shown.held_reason == event["held_reason"]
    # Kept for its release, but nothing of the note in it until a consent covers it.
    assert "note" not in payload["data"] and "part2" not in payload["data"]


async def test_recording_a_consent_delivers_the_held_notes_once_each_in_signing_order(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent=None)
    # Signed out of e-consult order on purpose: the order is the signing order.
    signed = [await scene.answer(patient, at=NOW - timedelta(hours=h)) for h in (1, 3, 2)]
    by_signing = sorted(signed, key=lambda n: n.signed_at or NOW)
    assert await deliver_to_receivers(pool, settings) == 0

    recorded = await scene.record_consent(patient)

    assert recorded.released == 3
    async with pool.acquire() as conn:
        assert await disclosure.held_notes(conn, spoke_id=scene.spoke.id) == []
        with pytest.raises(_LookedOnly):
            async with conn.transaction():
                # The worker's claim order, looked at and rolled back (nothing leased).
                claimed = await delivery_store.claim_due(
                    conn, [scene.spoke.id], lease_seconds=60, limit=10
                )
                raise _LookedOnly
    assert [d.note_id for d in claimed] == [n.id for n in by_signing]
    assert {d.consent_id for d in claimed} == {recorded.consent.id}
    assert await deliver_to_receivers(pool, settings) == 3
    assert await deliver_to_receivers(pool, settings) == 0
    assert sorted(e["data"]["note_id"] for e in scene.received) == sorted(str(n.id) for n in signed)
    # Recording another consent later sends nothing again.
    again = await scene.record_consent(patient)
    assert again.released == 0
    assert await deliver_to_receivers(pool, settings) == 0
    assert len(scene.received) == 3


async def test_two_consents_recorded_at_once_release_each_held_note_exactly_once(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent=None)
    signed = [await scene.answer(patient, at=NOW - timedelta(minutes=m)) for m in (30, 20, 10)]

    both = await asyncio.gather(
        scene.record_consent(patient, signed_on=date(2026, 1, 5)),
        scene.record_consent(patient, signed_on=date(2026, 2, 5)),
    )

    assert sorted(r.released for r in both) == [0, 3]
    events = await _events(pool, [n.id for n in signed])
    assert len(events) == 3  # one event per note version, never a second
    assert {e["consent_id"] for e in events} <= {r.consent.id for r in both}
    assert all(e["held_at"] is None and e["due"] for e in events)
    assert await deliver_to_receivers(pool, settings) == 3
    assert await deliver_to_receivers(pool, settings) == 0
    assert sorted(e["data"]["note_id"] for e in scene.received) == sorted(str(n.id) for n in signed)


async def test_a_consent_for_another_clinic_or_kind_releases_nothing(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent=None)
    note = await scene.answer(patient)
    other = await scene.network.spoke()

    elsewhere = await scene.record_consent(patient, recipient_spoke_ids=[other.id])
    sessions_only = await scene.record_consent(patient, disclose=["session_note"])

    assert (elsewhere.released, sessions_only.released) == (0, 0)
    assert await deliver_to_receivers(pool, settings) == 0
    async with pool.acquire() as conn:
        [held] = await disclosure.held_notes(conn, spoke_id=scene.spoke.id, patient_id=patient.id)
    assert held.note_id == note.id


async def test_counseling_notes_go_only_under_a_counseling_notes_consent(
    pool: asyncpg.Pool, scene: Scene, network: Network, settings: Settings
) -> None:
    patient = await network.patient(scene.spoke)  # a TPO consent on file
    counselor = await network.consultant([await network.service()], role="telehealth_counselor")
    async with pool.acquire() as conn, conn.transaction():
        booking_id = await booking_in_store(
            conn,
            service_id=counselor.service_ids[0],
            consultant_id=counselor.id,
            spoke_id=scene.spoke.id,
            patient_id=patient.id,
            start=NOW - timedelta(days=1),
        )
        counseling = await sign_in_domain(
            conn, counselor.id, Subject(booking_id=booking_id), now=NOW, kind="counseling"
        )
    session = await scene.answer(patient)  # an e-consult answer: TPO covers it

    assert await deliver_to_receivers(pool, settings) == 1
    assert [e["data"]["note_id"] for e in scene.received] == [str(session.id)]
    async with pool.acquire() as conn:
        [held] = await disclosure.held_notes(conn, spoke_id=scene.spoke.id)
    assert held.note_id == counseling.id
    assert held.missing == "no counseling-notes consent in force"

    recorded = await scene.record_consent(patient, kind="counseling_notes", purpose="counseling")

    assert recorded.released == 1
    assert await deliver_to_receivers(pool, settings) == 1
    last = scene.received[-1]["data"]
    assert last["note_id"] == str(counseling.id)
    assert last["part2"]["consent"]["id"] == str(recorded.consent.id)
    assert last["part2"]["consent"]["kind"] == "counseling_notes"


async def test_a_counseling_notes_consent_alone_does_not_cover_a_consult_note(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent="counseling_notes")
    note = await scene.answer(patient)

    assert await deliver_to_receivers(pool, settings) == 0
    async with pool.acquire() as conn:
        [held] = await disclosure.held_notes(conn, spoke_id=scene.spoke.id)
    assert held.note_id == note.id


async def test_every_payload_carries_the_notice_the_scope_and_the_labels(
    pool: asyncpg.Pool, scene: Scene, network: Network, settings: Settings
) -> None:
    partner = await network.spoke()
    patient = await network.patient(scene.spoke, consent=None)
    async with pool.acquire() as conn:
        consent = await give_consent(
            conn, patient, recipients=[scene.spoke.id, partner.id], expires_on=date(2099, 6, 30)
        )
    full = await scene.answer(patient)
    assert await deliver_to_receivers(pool, settings) == 1
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE spokes SET webhook_full_payload = false WHERE id = $1", scene.spoke.id
        )
    thin = await scene.answer(patient)
    assert await deliver_to_receivers(pool, settings) == 1

    first, second = scene.received
    assert first["data"]["note_id"] == str(full.id) and second["data"]["note_id"] == str(thin.id)
    assert first["data"]["note"]["sections"]["assessment"]  # the opt-in full payload
    assert "note" not in second["data"]  # thin: identifiers, links and the Part 2 block
    for event in (first, second):
        block = event["data"]["part2"]
        assert block["notice"] == part2.NOTICE
        assert block["security_labels"] == part2.security_labels()
        assert {label["code"] for label in block["security_labels"]} == {
            "R",
            "42CFRPart2",
            "SUD",
            "NORDSCLCD",
        }
        scope = block["consent"]
        assert scope["id"] == str(consent.id) and scope["kind"] == "tpo"
        assert scope["recipients"] == [
            {"spoke_id": scene.spoke.id, "name": scene.spoke.name},
            {"spoke_id": partner.id, "name": partner.name},
        ]
        assert scope["covers"] == consent.disclose
        assert scope["purpose"] == consent.purpose
        assert (scope["signed_on"], scope["expires_on"]) == ("2000-01-01", "2099-06-30")
        assert scope["expiry"] == "2099-06-30"


async def test_a_scope_until_revoked_says_so(scene: Scene, pool: asyncpg.Pool) -> None:
    patient = await scene.network.patient(scene.spoke)
    async with pool.acquire() as conn:
        [found] = await consent_store.of_patient(conn, patient.id)
    block = disclosure.part2_block(found, {scene.spoke.id: scene.spoke.name})
    assert block["consent"]["expires_on"] is None
    assert block["consent"]["expiry"] == "until revoked"


async def _waiting_on_a_lock(pool: asyncpg.Pool, pid: int) -> bool:
    async with pool.acquire() as conn:
        return bool(
            await conn.fetchval(
                "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = $1", pid
            )
        )


async def test_a_consent_recorded_while_a_note_is_being_signed_releases_that_note(
    pool: asyncpg.Pool, scene: Scene, settings: Settings
) -> None:
    patient = await scene.network.patient(scene.spoke, consent=None)
    async with pool.acquire() as signing, pool.acquire() as recording:
        pid = recording.get_server_pid()
        tx = signing.transaction()
        await tx.start()
        econsult_id = await econsult_in_store(
            signing,
            patient=patient,
            service_id=scene.service_id,
            consultant_id=scene.consultant_id,
            at=NOW - timedelta(hours=1),
        )
        # Signed and held, not yet committed: the consent's release cannot see it yet.
        note = await sign_in_domain(
            signing, scene.consultant_id, Subject(econsult_id=econsult_id), now=NOW
        )
        clinic = Caller("spoke", scene.spoke.client_id, KIND_SCOPES["spoke"], scene.spoke.id)

        async def record() -> consents.Recorded:
            async with recording.transaction():
                return await consents.record(
                    recording,
                    clinic,
                    Trail(clinic.actor),
                    patient.id,
                    kind="tpo",
                    signed_on=date(2026, 1, 5),
                    expires_on=None,
                    base_url=BASE_URL,
                    now=NOW,
                )

        recorded = asyncio.create_task(record())
        # Either the recording finishes at once, or it waits for the signing's turn.
        await until(lambda: recorded.done() or _waiting_on_a_lock(pool, pid))
        await tx.commit()
        done = await recorded

    assert done.released == 1
    [event] = await _events(pool, [note.id])
    assert event["held_at"] is None and event["consent_id"] == done.consent.id
    assert await deliver_to_receivers(pool, settings) == 1
    assert [e["data"]["note_id"] for e in scene.received] == [str(note.id)]
