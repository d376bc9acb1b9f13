"""Consult notes: draft, sign, amend; the clinic's inbox; acknowledgement closes the loop."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, time
from typing import Any

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from tests.factories import (
    NOTE_SECTIONS,
    Clock,
    Network,
    SpokeUser,
    draft_note,
    econsult,
    sign_note,
    signed_note,
)


class Loop:
    """An answered-to-be e-consult: its clinic, consultant and a video service."""

    spoke: SpokeUser
    econsult_id: str
    consultant_id: int
    hub: dict[str, str]
    video_service_id: int


@pytest.fixture
async def loop(client: TestClient, network: Network) -> Loop:
    """A clinic's e-consult, assigned to a consultant who also offers video visits."""
    econsult_service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    video = await network.service(duration_minutes=60)
    consultant = await network.consultant(
        [econsult_service, video], hours=((0, time(9), time(12)),)
    )
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=econsult_service.id)
    assert asked["consultant_id"] == consultant.id
    result = Loop()
    result.spoke, result.econsult_id = spoke, asked["id"]
    result.consultant_id = consultant.id
    result.hub = network.consultant_headers(consultant.id)
    result.video_service_id = video.id
    return result


async def _econsult(client: TestClient, loop: Loop) -> Any:
    return await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}", headers=loop.spoke.headers)
    ).json()


async def test_signing_sends_the_note_and_acknowledging_closes_the_loop(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    draft = await draft_note(client, loop.hub, loop.econsult_id, {**NOTE_SECTIONS, "follow_up": ""})
    assert draft["status"] == "draft" and draft["version"] == 1
    hidden = await client.get(f"/api/v1/notes/{draft['id']}", headers=loop.spoke.headers)
    assert hidden.status == 404  # a clinic never sees a draft

    incomplete = await client.post(f"/api/v1/notes/{draft['id']}/sign", headers=loop.hub)
    assert incomplete.status == 422
    assert [e["field"] for e in (await incomplete.json())["errors"]] == ["sections.follow_up"]
    edited = await client.put(
        f"/api/v1/notes/{draft['id']}",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert edited.status == 200

    signed = await sign_note(client, loop.hub, draft["id"])
    assert signed["status"] == "signed"
    assert (await _econsult(client, loop))["status"] == "answered"
    event = await conn.fetchrow("SELECT event_type, spoke_id, payload FROM outbox")
    assert (event["event_type"], event["spoke_id"]) == ("note.signed", loop.spoke.id)
    assert event["payload"]["data"]["note_id"] == draft["id"]
    assert "note" not in event["payload"]["data"]  # thin by default: ids and links only

    inbox = await (
        await client.get(
            "/api/v1/notes", params={"acknowledged": "false"}, headers=loop.spoke.headers
        )
    ).json()
    assert [n["id"] for n in inbox["notes"]] == [draft["id"]]
    acked = await client.post(
        f"/api/v1/notes/{draft['id']}/acknowledge", headers=loop.spoke.headers
    )
    assert acked.status == 200 and (await acked.json())["acknowledged_at"]
    again = await client.post(
        f"/api/v1/notes/{draft['id']}/acknowledge", headers=loop.spoke.headers
    )
    assert (await again.json())["acknowledged_at"] == (await acked.json())["acknowledged_at"]
    assert (await _econsult(client, loop))["status"] == "closed"
    open_loops = await (
        await client.get(
            "/api/v1/notes", params={"acknowledged": "false"}, headers=loop.spoke.headers
        )
    ).json()
    assert open_loops["notes"] == []


async def test_a_signed_note_cannot_be_edited_and_an_amendment_is_version_two(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    first = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, first["id"])

    edit = await client.put(
        f"/api/v1/notes/{first['id']}",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    resign = await client.post(f"/api/v1/notes/{first['id']}/sign", headers=loop.hub)
    assert (edit.status, resign.status) == (409, 409)

    amended_sections = {**NOTE_SECTIONS, "follow_up": "Re-consult in 2 weeks."}
    amendment = await draft_note(client, loop.hub, loop.econsult_id, amended_sections)
    assert amendment["version"] == 2
    await client.post(f"/api/v1/notes/{first['id']}/acknowledge", headers=loop.spoke.headers)
    signed = await sign_note(client, loop.hub, amendment["id"])

    assert signed["sections"]["follow_up"] == "Re-consult in 2 weeks."
    events = await conn.fetch("SELECT event_type, payload FROM outbox ORDER BY id")
    assert [e["event_type"] for e in events] == ["note.signed", "note.amended"]
    assert events[1]["payload"]["data"]["version"] == 2
    assert (await _econsult(client, loop))["status"] == "answered"  # v2 awaits its ack
    versions = await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=loop.spoke.headers)
    ).json()
    assert [(n["version"], n["status"]) for n in versions["notes"]] == [
        (1, "signed"),
        (2, "signed"),
    ]
    assert versions["notes"][0]["sections"] == NOTE_SECTIONS  # version 1 is as it was signed


async def test_the_database_itself_refuses_to_change_a_signed_note(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, note["id"])
    for statement in (
        "UPDATE consult_notes SET sections = '{}' WHERE id = $1",
        "DELETE FROM consult_notes WHERE id = $1",
    ):
        with pytest.raises(asyncpg.IntegrityConstraintViolationError, match="signed"):
            await conn.execute(statement, uuid.UUID(note["id"]))


async def test_only_one_draft_at_a_time(client: TestClient, loop: Loop) -> None:
    await draft_note(client, loop.hub, loop.econsult_id)
    second = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert second.status == 409


async def test_no_note_reaches_or_is_readable_by_another_clinic(
    client: TestClient, network: Network, loop: Loop, conn: asyncpg.Connection
) -> None:
    note = await draft_note(client, loop.hub, loop.econsult_id)
    await sign_note(client, loop.hub, note["id"])
    other = await network.spoke()

    read = await client.get(f"/api/v1/notes/{note['id']}", headers=other.headers)
    missing = await client.get(f"/api/v1/notes/{uuid.uuid4()}", headers=other.headers)
    acked = await client.post(f"/api/v1/notes/{note['id']}/acknowledge", headers=other.headers)
    inbox = await (await client.get("/api/v1/notes", headers=other.headers)).json()
    versions = await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}/notes", headers=other.headers)
    ).json()

    assert (read.status, acked.status) == (404, 404)
    strip = {"request_id", "instance"}
    read_body = {k: v for k, v in (await read.json()).items() if k not in strip}
    assert read_body == {k: v for k, v in (await missing.json()).items() if k not in strip}
    assert inbox["notes"] == [] and versions["notes"] == []
    assert await conn.fetchval("SELECT count(*) FROM note_acknowledgements") == 0
    assert (
        await conn.fetchval("SELECT count(*) FROM outbox WHERE spoke_id <> $1", loop.spoke.id) == 0
    )


async def test_another_consultant_cannot_write_the_note(
    client: TestClient, network: Network, loop: Loop
) -> None:
    stranger = network.consultant_headers(loop.consultant_id + 999)
    response = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=stranger,
    )
    assert response.status == 404
    by_clinic = await client.post(
        f"/api/v1/econsults/{loop.econsult_id}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.spoke.headers,
    )
    assert by_clinic.status == 403


async def test_a_recommended_visit_is_booked_in_one_step(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    visit = {
        "service_id": loop.video_service_id,
        "consultant_id": loop.consultant_id,
        "start": "2027-03-08T09:00:00-08:00",
    }
    url = f"/api/v1/econsults/{loop.econsult_id}/visit"
    too_early = await client.post(url, json=visit, headers=loop.spoke.headers)
    assert too_early.status == 409  # nothing signed yet

    await signed_note(client, loop.hub, loop.econsult_id)
    booked = await client.post(url, json=visit, headers=loop.spoke.headers)

    assert booked.status == 201, await booked.text()
    booking = await booked.json()
    patient = await conn.fetchval(
        "SELECT patient_id FROM econsults WHERE id = $1", uuid.UUID(loop.econsult_id)
    )
    assert booking["patient_id"] == str(patient)
    assert booking["video_link"]


async def test_a_session_note_is_written_on_a_booking(
    client: TestClient, network: Network, loop: Loop, conn: asyncpg.Connection
) -> None:
    patient_id = await conn.fetchval("SELECT patient_id FROM econsults")
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": loop.video_service_id,
            "consultant_id": loop.consultant_id,
            "patient_id": str(patient_id),
            "start": "2027-03-08T09:00:00-08:00",
        },
        headers={**loop.spoke.headers, "Idempotency-Key": "visit-note"},
    )
    booking = await booked.json()
    draft = await client.post(
        f"/api/v1/bookings/{booking['id']}/notes",
        json={"sections": NOTE_SECTIONS},
        headers=loop.hub,
    )
    assert draft.status == 201
    note = await draft.json()
    assert note["booking_id"] == booking["id"] and note["econsult_id"] is None
    await sign_note(client, loop.hub, note["id"])
    inbox = await (await client.get("/api/v1/notes", headers=loop.spoke.headers)).json()
    assert [n["id"] for n in inbox["notes"]] == [note["id"]]


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
    # Released from its two-hour hold: due now, or (if the app's worker already tried it)
    # waiting only its first backoff.
    assert await conn.fetchval("SELECT next_attempt_at < now() + interval '1 hour' FROM outbox")


async def test_a_recommended_visit_is_booked_once_unless_it_was_cancelled(
    client: TestClient, loop: Loop, conn: asyncpg.Connection
) -> None:
    await signed_note(client, loop.hub, loop.econsult_id)
    url = f"/api/v1/econsults/{loop.econsult_id}/visit"
    first = {
        "service_id": loop.video_service_id,
        "consultant_id": loop.consultant_id,
        "start": "2027-03-08T09:00:00-08:00",
    }
    booked = await (await client.post(url, json=first, headers=loop.spoke.headers)).json()
    again = await client.post(
        url, json={**first, "start": "2027-03-08T10:00:00-08:00"}, headers=loop.spoke.headers
    )
    assert again.status == 409
    assert "booked already" in (await again.json())["detail"]
    assert (await _econsult(client, loop))["visit_booking_id"] == booked["id"]

    await client.post(
        f"/api/v1/bookings/{booked['id']}/cancel",
        json={"reason": "sick"},
        headers=loop.spoke.headers,
    )
    rebooked = await client.post(
        url, json={**first, "start": "2027-03-08T10:00:00-08:00"}, headers=loop.spoke.headers
    )
    assert rebooked.status == 201
    assert (await _econsult(client, loop))["visit_booking_id"] == (await rebooked.json())["id"]
