"""Where a signed note goes: the clinic's webhook (its secret shown once, the full payload if
asked), the hub's deliveries and retries, and the program's measures."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import (
    NOTE_SECTIONS,
    Clock,
    Network,
    draft_note,
    sign_note,
    signed_note,
)
from tests.http.notes.support import Loop


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """No delivery worker: these tests read the outbox as the hub sees it, and a worker would
    lease events (and look up the clinic's made-up host) while they do."""
    return dataclasses.replace(settings, delivery_workers=False)


async def test_a_clinic_sets_its_own_webhook_and_gets_its_secret_once(
    client: TestClient, network: Network, loop: Loop
) -> None:
    url = f"/api/v1/spokes/{loop.spoke.id}/webhook"
    first = await client.put(
        url,
        json={"url": "https://ehr.clinic.example/telehub", "full_payload": True},
        headers=loop.spoke.headers,
    )
    body = await first.json()
    assert first.status == 200 and body["secret"].startswith("whsec_")
    again = await (
        await client.put(
            url, json={"url": "https://ehr.clinic.example/v2"}, headers=loop.spoke.headers
        )
    ).json()
    assert again["secret"] is None and again["url"] == "https://ehr.clinic.example/v2"
    rotated = await (
        await client.put(
            url,
            json={"url": "https://ehr.clinic.example/v2", "rotate_secret": True},
            headers=loop.spoke.headers,
        )
    ).json()
    assert rotated["secret"] not in (None, body["secret"])

    other = await network.spoke()
    assert (await client.get(url, headers=other.headers)).status == 404
    plain = await client.put(
        url, json={"url": "http://ehr.clinic.example/hook"}, headers=loop.spoke.headers
    )
    assert plain.status == 422
    assert (await plain.json())["errors"][0]["field"] == "url"


async def test_a_full_payload_clinic_gets_the_note_in_the_event(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    await client.put(
        f"/api/v1/spokes/{loop.spoke.id}/webhook",
        json={"url": "https://ehr.clinic.example/hook", "full_payload": True},
        headers=loop.spoke.headers,
    )
    await signed_note(client, loop.hub, loop.econsult_id)
    payload = await conn.fetchval("SELECT payload FROM outbox")
    assert payload["data"]["note"]["sections"] == NOTE_SECTIONS


async def test_deliveries_are_the_hubs_to_see_and_retry(
    client: TestClient, network: Network, loop: Loop
) -> None:
    await signed_note(client, loop.hub, loop.econsult_id)
    admin = network.hub_admin_headers()
    listed = await (await client.get("/api/v1/deliveries", headers=admin)).json()
    assert [(d["event_type"], d["state"]) for d in listed["deliveries"]] == [
        ("note.signed", "pending"),
    ]
    assert "payload" not in listed["deliveries"][0]
    retried = await client.post(
        f"/api/v1/deliveries/{listed['deliveries'][0]['id']}/retry", headers=admin
    )
    assert retried.status == 200
    assert (await client.get("/api/v1/deliveries", headers=loop.spoke.headers)).status == 403


async def test_program_measures_show_turnaround_and_loop_closure(
    client: TestClient, network: Network, loop: Loop, clock: Clock
) -> None:
    assert clock.now == datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # when the question came
    clock.now = datetime(2027, 3, 1, 21, 0, tzinfo=UTC)  # answered six hours later
    note = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, note["id"])
    clock.now = datetime(2027, 3, 2, 0, 30, tzinfo=UTC)  # read 3.5 hours after that
    await client.post(f"/api/v1/notes/{note['id']}/acknowledge", headers=loop.spoke.headers)

    response = await client.get(
        "/api/v1/measures",
        params={"start": "2027-01-01T00:00:00Z", "end": "2027-12-31T00:00:00Z"},
        headers=network.hub_admin_headers(),
    )
    measures = await response.json()

    assert response.status == 200
    spoke_row = next(m for m in measures["by_spoke"] if m["key"] == loop.spoke.id)
    assert (
        spoke_row["econsults"],
        spoke_row["answered"],
        spoke_row["notes_signed"],
        spoke_row["acknowledged"],
        spoke_row["unacknowledged"],
    ) == (1, 1, 1, 1, 0)
    assert spoke_row["turnaround_median_hours"] == 6.0
    assert spoke_row["loop_closure_median_hours"] == 3.5
    consultant_row = next(m for m in measures["by_consultant"] if m["key"] == loop.consultant_id)
    assert consultant_row["answered"] == 1
    assert measures["overall"]["econsults"] == 1
    forbidden = await client.get(
        "/api/v1/measures",
        params={"start": "2027-01-01T00:00:00Z", "end": "2027-12-31T00:00:00Z"},
        headers=loop.spoke.headers,
    )
    assert forbidden.status == 403


async def test_a_manual_retry_never_resends_an_event_being_delivered(
    client: TestClient, network: Network, loop: Loop, conn: asyncpg.Connection
) -> None:
    await signed_note(client, loop.hub, loop.econsult_id)
    delivery_id = await conn.fetchval("SELECT id FROM outbox")
    await conn.execute(
        "UPDATE outbox SET leased_until = now() + interval '1 minute',"
        " next_attempt_at = now() + interval '1 minute'"
    )
    admin = network.hub_admin_headers()
    busy = await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=admin)
    assert busy.status == 409
    await conn.execute("UPDATE outbox SET leased_until = NULL")
    assert (
        await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=admin)
    ).status == 200
    await conn.execute("UPDATE outbox SET delivered_at = now()")
    done = await client.post(f"/api/v1/deliveries/{delivery_id}/retry", headers=admin)
    assert done.status == 404


async def test_re_enabling_a_disabled_endpoint_releases_what_waited_behind_it(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    from spokes import store as spokes_store

    url = f"/api/v1/spokes/{loop.spoke.id}/webhook"
    await client.put(
        url, json={"url": "https://ehr.clinic.example/hook"}, headers=loop.spoke.headers
    )
    await signed_note(client, loop.hub, loop.econsult_id)
    await spokes_store.disable_webhook(conn, loop.spoke.id, "410 Gone")
    await conn.execute("UPDATE outbox SET next_attempt_at = now() + interval '2 hours'")

    again = await client.put(
        url, json={"url": "https://ehr.clinic.example/hook2"}, headers=loop.spoke.headers
    )

    assert (await again.json())["disabled_at"] is None
    # Released from its two-hour hold: due now.
    assert await conn.fetchval("SELECT next_attempt_at <= now() FROM outbox")
