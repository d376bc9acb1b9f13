"""Recording a consent releases the patient's held notes through the outbox exactly once and
in signing order, even when two consents are recorded at the same moment on two
connections; revoking one withholds what has not gone, and keeps everything."""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from spokes import consents
from telehub.audit import Trail
from telehub.auth import KIND_SCOPES, Caller
from telehub.db import create_pool
from telehub.settings import Settings
from tests.factories import Network, econsult, signed_note

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)
WAITING_ON_LOCKS = """
    SELECT count(*) FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'
"""


async def _held_answers(client: TestClient, network: Network, count: int) -> dict[str, Any]:
    """A patient without consent whose clinic got `count` e-consult answers: all held."""
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=None)
    hub = network.consultant_headers(consultant.id)
    notes = []
    for n in range(count):
        asked = await econsult(
            client, spoke, patient_id=patient.id, service_id=service.id, question=f"Q{n}?"
        )
        notes.append((await signed_note(client, hub, asked["id"]))["id"])
    caller = Caller("spoke", spoke.client_id, KIND_SCOPES["spoke"], spoke.id)
    return {"spoke": spoke, "patient": patient, "notes": notes, "caller": caller}


async def _events(conn: asyncpg.Connection, spoke_id: int) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        """
        SELECT o.note_id::text AS note_id, o.consent_id, o.held_at, o.held_reason
          FROM outbox o WHERE o.spoke_id = $1 AND o.note_id IS NOT NULL
         ORDER BY o.note_id
        """,
        spoke_id,
    )
    return [dict(r) for r in rows]


async def _record(
    conn: asyncpg.Connection, loop: dict[str, Any], actor: str, **over: Any
) -> consents.Recorded:
    values: dict[str, Any] = dict(kind="tpo", signed_on=date(2027, 2, 20), expires_on=None)
    values.update(over)
    async with conn.transaction():
        return await consents.record(
            conn,
            loop["caller"],
            Trail(actor),
            loop["patient"].id,
            **values,
            base_url="http://telehub.test",
            now=NOW,
        )


async def test_a_consent_releases_the_held_notes_it_covers_once(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    loop = await _held_answers(client, network, 2)
    async with pool.acquire() as conn:
        before = await _events(conn, loop["spoke"].id)
        assert len(before) == 2
        assert all(e["held_at"] is not None and e["consent_id"] is None for e in before)
        assert all(e["held_reason"] for e in before)

        # A counseling-notes consent covers none of them: nothing is released.
        counseling = await _record(
            conn, loop, "user:1", kind="counseling_notes", purpose="Counseling notes"
        )
        assert counseling.released == 0
        tpo = await _record(conn, loop, "user:1")
        assert tpo.released == 2
        again = await _record(conn, loop, "user:1", signed_on=date(2027, 2, 25))
        assert again.released == 0
        after = await _events(conn, loop["spoke"].id)
    assert sorted(e["note_id"] for e in after) == sorted(loop["notes"])
    assert all(e["held_at"] is None and e["consent_id"] == tpo.consent.id for e in after)


async def test_two_consents_recorded_at_once_release_each_held_note_exactly_once(
    client: TestClient, network: Network, settings: Settings
) -> None:
    loop = await _held_answers(client, network, 3)
    racing_pool = await create_pool(replace(settings, db_pool_min=3, db_pool_max=3))
    try:
        async with (
            racing_pool.acquire() as first,
            racing_pool.acquire() as second,
            racing_pool.acquire() as probe,
        ):
            tx = first.transaction()
            await tx.start()
            try:
                won = await consents.record(
                    first,
                    loop["caller"],
                    Trail("user:1"),
                    loop["patient"].id,
                    kind="tpo",
                    signed_on=date(2027, 2, 20),
                    expires_on=None,
                    base_url="http://telehub.test",
                    now=NOW,
                )
                # The second release must wait on the held rows the first has locked.
                racing = asyncio.create_task(_record(second, loop, "user:2"))
                waited = False
                for _ in range(1000):
                    waited = bool(await probe.fetchval(WAITING_ON_LOCKS))
                    if waited:
                        break
                    await asyncio.sleep(0.01)
            finally:
                await tx.commit()
            lost = await racing
            events = await _events(probe, loop["spoke"].id)
            recorded = await probe.fetchval(
                "SELECT count(*) FROM consents WHERE patient_id = $1", loop["patient"].id
            )
    finally:
        await racing_pool.close()

    assert waited, "the second release never waited on the first's locks"
    assert won.released == 3 and lost.released == 0
    assert recorded == 2
    assert len(events) == 3  # one event per note, never a second
    assert all(e["held_at"] is None and e["consent_id"] == won.consent.id for e in events)


async def test_a_revocation_holds_what_has_not_gone_and_keeps_the_consent(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    loop = await _held_answers(client, network, 1)
    async with pool.acquire() as conn:
        tpo = await _record(conn, loop, "user:1")
        assert tpo.released == 1
        async with conn.transaction():
            done = await consents.revoke(
                conn,
                loop["caller"],
                Trail("user:1"),
                tpo.consent.id,
                revoked_on=date(2027, 3, 1),
                how="written",
                base_url="http://telehub.test",
                now=NOW,
            )
        assert done.held == 1 and done.consent.revoked_at == NOW
        [event] = await _events(conn, loop["spoke"].id)
        assert event["held_at"] is not None and "revoked" in event["held_reason"]
        assert await conn.fetchval("SELECT count(*) FROM consents") == 1
        # A new consent releases it again, once.
        renewed = await _record(conn, loop, "user:1", signed_on=date(2027, 3, 1))
        assert renewed.released == 1
        [event] = await _events(conn, loop["spoke"].id)
        assert event["held_at"] is None and event["consent_id"] == renewed.consent.id


async def test_what_was_disclosed_before_a_revocation_stays_in_the_accounting(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    loop = await _held_answers(client, network, 1)
    spoke, note_id = loop["spoke"], loop["notes"][0]
    made = await client.post(
        f"/api/v1/patients/{loop['patient'].id}/consents",
        json={"kind": "tpo", "signed_on": "2027-02-20"},
        headers=spoke.headers,
    )
    assert made.status == 201 and (await made.json())["released"] == 1
    consent_id = (await made.json())["id"]
    read = await client.get(f"/api/v1/notes/{note_id}", headers=spoke.headers)
    assert read.status == 200
    async with pool.acquire() as conn:
        before = [dict(r) for r in await conn.fetch("SELECT * FROM disclosures ORDER BY id")]
    assert [(str(d["consent_id"]), d["channel"]) for d in before] == [(consent_id, "api")]

    revoked = await client.post(
        f"/api/v1/consents/{consent_id}/revoke",
        json={"revoked_on": "2027-03-01", "how": "electronic"},
        headers=spoke.headers,
    )
    assert revoked.status == 200, await revoked.text()
    async with pool.acquire() as conn:
        after = [dict(r) for r in await conn.fetch("SELECT * FROM disclosures ORDER BY id")]
        kept = await conn.fetchrow(
            "SELECT revoked_how FROM consents WHERE id = $1", uuid.UUID(consent_id)
        )
    assert after == before
    assert kept is not None and kept["revoked_how"] == "electronic"


async def test_the_summary_shows_each_consent_its_status_and_what_the_clinic_may_receive(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    loop = await _held_answers(client, network, 0)
    trail = Trail("user:9")
    async with pool.acquire() as conn:
        empty = await consents.summary(conn, loop["caller"], trail, loop["patient"].id, NOW.date())
        assert empty.status == "none" and empty.consents == [] and empty.covering is None
        assert len(empty.not_covered) == 5
        old = await _record(conn, loop, "user:1", signed_on=date(2027, 1, 2))
        soon = await _record(
            conn,
            loop,
            "user:1",
            kind="specific",
            purpose="Care",
            disclose=["econsult_answer"],
            signed_on=date(2027, 2, 1),
            expires_on=date(2027, 3, 10),
        )
        async with conn.transaction():
            await consents.revoke(
                conn,
                loop["caller"],
                trail,
                old.consent.id,
                revoked_on=date(2027, 2, 27),
                how="verbal",
                base_url="http://telehub.test",
                now=NOW,
            )
        shown = await consents.summary(conn, loop["caller"], trail, loop["patient"].id, NOW.date())
        audited = await conn.fetchval(
            "SELECT count(*) FROM audit_log WHERE actor = 'user:9' AND action = 'read'"
            " AND record_type = 'consent'"
        )
    assert shown.status == "expiring"
    assert [(s.consent.id, s.status, s.days_left) for s in shown.consents] == [
        (soon.consent.id, "expiring", 9),
        (old.consent.id, "revoked", None),
    ]
    assert shown.covering is not None and shown.covering.id == soon.consent.id
    assert shown.not_covered == [
        "session_note",
        "group_session_note",
        "case_review_recommendation",
        "counseling_note",
    ]
    assert audited == 2  # the two consents shown (the empty summary read none)
