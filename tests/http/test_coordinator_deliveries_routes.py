"""The deliveries page says what is true for each clinic: sent to its webhook, or waiting in its
inbox (no webhook: nothing is sent, nothing to retry); Retry keeps the list's filter."""

from __future__ import annotations

import dataclasses
import html
from urllib.parse import parse_qs, urlsplit

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Network, SpokeUser, econsult, signed_note
from tests.http.coordinator_support import SECTIONS, coordinator, post_form, tables


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The test settings without the delivery worker: nothing is sent while pages are read."""
    return dataclasses.replace(settings, delivery_workers=False)


async def _note_for(
    client: TestClient, network: Network, spoke: SpokeUser, *, consent: str | None = "tpo"
) -> None:
    """A consult note signed for the spoke: one event for its webhook, or its inbox (held, for
    a patient with no consent on file)."""
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    doctor = await network.consultant([service])
    patient = await network.patient(spoke, consent=consent)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=service.id)
    await signed_note(client, network.consultant_headers(doctor.id), asked["id"], SECTIONS)


async def _two_clinics(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> tuple[SpokeUser, SpokeUser]:
    """A clinic with a webhook and one without, each with a note signed an hour ago."""
    hooked, inbox = await network.spoke(), await network.spoke()
    await conn.execute(
        "UPDATE spokes SET webhook_url = 'http://127.0.0.1:9/hook', webhook_secret = 'whsec_test'"
        " WHERE id = $1",
        hooked.id,
    )
    await _note_for(client, network, hooked)
    await _note_for(client, network, inbox)
    # The last attempt's time is long past: what is due is "due now", not a time gone by.
    await conn.execute("UPDATE outbox SET next_attempt_at = now() - interval '1 hour'")
    return hooked, inbox


async def test_a_clinic_without_a_webhook_has_its_note_in_its_inbox_and_nothing_to_retry(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    hooked, inbox = await _two_clinics(client, network, conn)
    await coordinator(client, network)
    page = await (await client.get("/coordinator/deliveries")).text()
    rows = {row[1]: row for row in tables(page)["deliveries"][1:]}
    assert rows[inbox.name][0].startswith("Signed consult note")
    assert rows[inbox.name][2:] == [
        "no webhook: in the clinic's inbox",
        "0",
        "—",
        "none: nothing is sent",
        "",
    ]
    assert rows[hooked.name][2:] == ["waiting to send", "0", "—", "due now", "Retry"]
    retry_forms = page.count('action="/coordinator/deliveries/')
    assert retry_forms == 1
    assert "#" not in rows[inbox.name][0] and "note.signed" not in page
    assert "Times in America/New York." in page  # zones shown one way


async def test_retry_for_a_clinic_without_a_webhook_is_refused_and_changes_nothing(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    _, inbox = await _two_clinics(client, network, conn)
    delivery_id = await conn.fetchval(
        """
        UPDATE outbox SET failed_at = now(), attempts = 7 WHERE spoke_id = $1 RETURNING id
        """,
        inbox.id,
    )
    before = await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", delivery_id)
    await coordinator(client, network)
    response = await post_form(
        client,
        f"/coordinator/deliveries/{delivery_id}/retry",
        {"spoke_id": str(inbox.id)},
        page="/coordinator/deliveries",
    )
    assert response.status == 303
    assert await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", delivery_id) == before
    page = html.unescape(await (await client.get(response.headers["Location"])).text())
    assert (
        f"{inbox.name} has no webhook: the signed consult note is in the clinic's inbox, and "
        "there is nothing to send." in page
    )


async def test_a_note_held_for_consent_is_never_sent_by_hand(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    hooked = await network.spoke()
    await conn.execute(
        "UPDATE spokes SET webhook_url = 'http://127.0.0.1:9/hook', webhook_secret = 'whsec_test'"
        " WHERE id = $1",
        hooked.id,
    )
    await _note_for(client, network, hooked, consent=None)
    delivery_id = await conn.fetchval("SELECT id FROM outbox WHERE spoke_id = $1", hooked.id)
    before = await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", delivery_id)
    assert before["held_at"] is not None
    await coordinator(client, network)
    response = await post_form(
        client,
        f"/coordinator/deliveries/{delivery_id}/retry",
        {},
        page="/coordinator/deliveries",
    )
    assert response.status == 303
    assert await conn.fetchrow("SELECT * FROM outbox WHERE id = $1", delivery_id) == before
    page = html.unescape(await (await client.get(response.headers["Location"])).text())
    assert (
        f"The signed consult note for {hooked.name} waits for the patient's consent: it is sent "
        "when the clinic records one that covers it." in page
    )


async def test_retry_sends_again_and_comes_back_to_the_same_filtered_list(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    hooked, _ = await _two_clinics(client, network, conn)
    delivery_id = await conn.fetchval(
        """
        UPDATE outbox SET failed_at = now(), attempts = 7, last_status = 503,
            last_error = 'Service Unavailable', next_attempt_at = now() + interval '1 day'
        WHERE spoke_id = $1 RETURNING id
        """,
        hooked.id,
    )
    await coordinator(client, network)
    listed = f"/coordinator/deliveries?state=failed&spoke_id={hooked.id}"
    failed = await (await client.get(listed)).text()
    assert tables(failed)["deliveries"][1][2:5] == ["failed", "7", "HTTP 503: Service Unavailable"]
    assert '<input type="hidden" name="state" value="failed">' in failed

    response = await post_form(
        client,
        f"/coordinator/deliveries/{delivery_id}/retry",
        {"state": "failed", "spoke_id": str(hooked.id)},
        page=listed,
    )
    assert response.status == 303
    back = urlsplit(response.headers["Location"])
    assert back.path == "/coordinator/deliveries"
    assert parse_qs(back.query) == {"state": ["failed"], "spoke_id": [str(hooked.id)]}
    row = await conn.fetchrow(
        "SELECT failed_at, next_attempt_at <= now() AS due FROM outbox WHERE id = $1", delivery_id
    )
    assert row["failed_at"] is None and row["due"]
    page = await (await client.get(response.headers["Location"])).text()
    assert f"The signed consult note for {hooked.name} will be sent again now." in page
    assert "No deliveries failed." in page  # still the failed ones: it is no longer one


async def test_a_retry_with_a_filter_that_makes_no_sense_goes_back_to_the_whole_list(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    hooked, _ = await _two_clinics(client, network, conn)
    delivery_id = await conn.fetchval("SELECT id FROM outbox WHERE spoke_id = $1", hooked.id)
    await coordinator(client, network)
    response = await post_form(
        client,
        f"/coordinator/deliveries/{delivery_id}/retry",
        {"state": "lost", "spoke_id": "//evil.example"},
        page="/coordinator/deliveries",
    )
    assert response.status == 303
    assert response.headers["Location"] == "/coordinator/deliveries"
