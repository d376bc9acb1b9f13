"""Part 2 on the hub's pages: the counseling-note choice in the session-note editor (offered
for a session's note, never an e-consult's, explained in one line, saved as the note's kind,
kept in the draft), and held notes on the coordinator's deliveries page."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Clock, Network, sign_in, signed_note
from tests.factories.records import NOTE_SECTIONS
from tests.http.consultant_pages.support import NOTE, Hub, ask, book, post
from tests.http.coordinator_support import coordinator

EXPLAINED = "A counseling note is disclosed only under the patient's counseling-notes consent."


async def counselor(client: TestClient, network: Network) -> Hub:
    """A consultant giving video sessions (Monday 09-12 Los Angeles), signed in."""
    h = Hub()
    h.econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=40, roles=["psychiatric_consultant"]
    )
    h.video = await network.service(duration_minutes=60)
    h.consultant = await network.consultant(
        [h.econsult_service, h.video],
        hours=((0, time(9), time(12)),),
        timezone="America/Los_Angeles",
    )
    h.spoke = await network.spoke()
    h.patient = await network.patient(h.spoke, family_name="Okafor")
    email, password = await network.user("consultant", consultant_id=h.consultant.id)
    assert (await sign_in(client, email, password)).status == 303
    return h


async def test_a_session_note_can_be_signed_as_a_counseling_note(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    hub = await counselor(client, network)
    booking_id = await book(client, hub, "2027-03-01T17:00:00Z")
    clock.now = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
    page = f"/hub/bookings/{booking_id}/note"
    editor = await (await client.get(page)).text()
    assert EXPLAINED in editor
    assert 'name="kind" value="consult" checked> Consult note' in editor

    response = await post(client, page, {**NOTE, "kind": "counseling", "action": "sign"}, page)

    assert response.status == 303
    note = await conn.fetchrow(
        "SELECT kind, signed_at FROM consult_notes WHERE booking_id = $1", uuid.UUID(booking_id)
    )
    assert note["kind"] == "counseling" and note["signed_at"] == clock.now
    held = await conn.fetchval("SELECT held_reason FROM outbox WHERE note_id IS NOT NULL")
    assert held is not None and "counseling" in held  # the TPO consent does not cover it
    signed = await (await client.get(page)).text()
    assert '<span class="tag">counseling note</span>' in signed


async def test_a_draft_keeps_its_kind(
    client: TestClient, network: Network, clock: Clock, conn: asyncpg.Connection
) -> None:
    hub = await counselor(client, network)
    booking_id = await book(client, hub, "2027-03-01T17:00:00Z")
    clock.now = datetime(2027, 3, 1, 18, 0, tzinfo=UTC)
    page = f"/hub/bookings/{booking_id}/note"

    response = await post(client, page, {**NOTE, "kind": "counseling", "action": "save"}, page)

    assert response.status == 303
    kind = await conn.fetchval(
        "SELECT kind FROM consult_notes WHERE booking_id = $1", uuid.UUID(booking_id)
    )
    assert kind == "counseling"
    editor = await (await client.get(page)).text()
    assert 'name="kind" value="counseling" checked> Counseling note' in editor


async def test_an_econsult_answer_offers_no_counseling_choice(
    client: TestClient, network: Network
) -> None:
    hub = await counselor(client, network)

    econsult_id = await ask(client, hub)

    page = await (await client.get(f"/hub/econsults/{econsult_id}")).text()

    assert "Consult note" in page
    assert EXPLAINED not in page and 'name="kind"' not in page


async def test_the_deliveries_page_shows_a_held_note_with_its_reason_and_filters_by_it(
    client: TestClient, network: Network
) -> None:
    hub = await counselor(client, network)
    doctor = network.consultant_headers(hub.consultant.id)
    held_for = await network.patient(hub.spoke, consent=None)
    await signed_note(client, doctor, await ask(client, hub, patient=held_for), NOTE_SECTIONS)
    await signed_note(client, doctor, await ask(client, hub), NOTE_SECTIONS)
    await coordinator(client, network)

    every = await (await client.get("/coordinator/deliveries")).text()
    held = await (await client.get("/coordinator/deliveries", params={"state": "held"})).text()

    reason = "no consent for treatment, payment and operations in force"
    assert every.count('<span class="tag held">held</span>') == 1
    assert f"waiting for the patient's consent: {reason}" in every
    assert held.count("<tr>") - 1 == 1  # the header row, then the held note only
    assert f"waiting for the patient's consent: {reason}" in held
    assert '<option value="held" selected>' in held
