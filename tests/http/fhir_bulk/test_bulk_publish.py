"""SMART Scheduling Links at /fhir/r4/$bulk-publish: a public manifest and NDJSON files of every
Schedule and every free or busy Slot, valid R4B resources with no patient data, and ETag/304."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient
from fhir.resources.R4B.capabilitystatement import CapabilityStatement
from fhir.resources.R4B.schedule import Schedule
from fhir.resources.R4B.slot import Slot

from fhir_r4 import ids
from scheduling import holds
from telehub.audit import Trail
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.factories.records import Bookable, bookable, booking

MANIFEST = "/fhir/r4/$bulk-publish"
# The clock's Monday 1 March 2027 and the next: 09:00-12:00 in Los Angeles (PST, UTC-8).
MONDAYS = [datetime(2027, 3, day, hour, tzinfo=UTC) for day in (1, 8) for hour in (17, 18, 19)]


async def setting(network: Network) -> Bookable:
    """A 60-minute video service booked at most 14 days ahead, a consultant offering it on
    Mondays 09:00-12:00 in Los Angeles, and a clinic with a patient."""
    return await bookable(network, horizon_days=14)


async def lines(client: TestClient, kind: str, **headers: str) -> list[dict[str, Any]]:
    response = await client.get(f"{MANIFEST}/{kind}.ndjson", headers=headers)
    assert response.status == 200, await response.text()
    assert response.content_type == "application/fhir+ndjson"
    text = await response.text()
    assert text.endswith("\n") or text == ""
    return [json.loads(line) for line in text.splitlines()]


async def test_the_manifest_names_the_schedule_and_slot_files_without_credentials(
    client: TestClient, settings: Settings, clock: Clock
) -> None:
    clock.now = datetime(2027, 3, 1, 15, 7, 42, tzinfo=UTC)
    response = await client.get(MANIFEST)  # no Authorization: directories poll it publicly
    assert response.status == 200, await response.text()
    assert response.content_type == "application/json"
    assert response.headers["ETag"].startswith('"')
    assert response.headers["Cache-Control"].startswith("public")
    body = await response.json()
    base = settings.base_url + MANIFEST
    assert body == {
        "transactionTime": "2027-03-01T15:05:00Z",  # the publishing instant: 5-minute steps
        "request": base,
        "output": [
            {"type": "Schedule", "url": base + "/Schedule.ndjson"},
            {"type": "Slot", "url": base + "/Slot.ndjson"},
        ],
        "error": [],
    }


async def test_the_manifest_answers_304_within_its_step_and_changes_with_the_next(
    client: TestClient, clock: Clock
) -> None:
    first = await client.get(MANIFEST)
    etag = first.headers["ETag"]
    again = await client.get(MANIFEST, headers={"If-None-Match": etag})
    assert again.status == 304
    assert again.headers["ETag"] == etag
    clock.now += timedelta(minutes=5)
    later = await client.get(MANIFEST, headers={"If-None-Match": etag})
    assert later.status == 200
    assert later.headers["ETag"] != etag
    assert (await later.json())["transactionTime"] == "2027-03-01T15:05:00Z"


async def test_one_schedule_per_consultant_and_service_as_valid_r4b(
    client: TestClient, network: Network
) -> None:
    setup = await setting(network)
    other = await network.service(kind="case_review", name="Case review")
    await network.consultant([other])
    schedules = await lines(client, "Schedule")
    for data in schedules:
        Schedule.model_validate(data)  # every line a valid R4B Schedule
    mine = [
        s for s in schedules if s["id"] == ids.schedule_id(setup.consultant.id, setup.service.id)
    ]
    assert len(mine) == 1
    assert mine[0]["actor"][0]["reference"] == f"PractitionerRole/{setup.consultant.id}"
    assert len(schedules) == 2


async def test_slots_are_free_or_busy_over_the_horizon_with_no_patient_data(
    client: TestClient, network: Network
) -> None:
    setup = await setting(network)
    booked = await booking(
        client,
        setup.spoke,
        service_id=setup.service.id,
        consultant_id=setup.consultant.id,
        patient_id=setup.patient.id,
        start=MONDAYS[3],
        reason="Buprenorphine induction plan",
    )
    response = await client.get(f"{MANIFEST}/Slot.ndjson")
    raw = await response.text()
    slots = [json.loads(line) for line in raw.splitlines()]
    for data in slots:
        Slot.model_validate(data)  # every line a valid R4B Slot
    assert [(s["start"], s["status"]) for s in slots] == [
        (start.isoformat().replace("+00:00", "Z"), "busy" if start == MONDAYS[3] else "free")
        for start in MONDAYS
    ]
    schedule = ids.schedule_id(setup.consultant.id, setup.service.id)
    assert {s["schedule"]["reference"] for s in slots} == {f"Schedule/{schedule}"}
    assert slots[0]["id"] == ids.slot_id(setup.consultant.id, setup.service.id, MONDAYS[0])
    # Free/busy only: nothing names the patient, the clinic or the booking.
    for secret in (
        str(setup.patient.id),
        setup.patient.mrn,
        setup.patient.family_name,
        setup.spoke.name,
        str(booked["id"]),
        "Buprenorphine",
    ):
        assert secret not in raw
    assert "Patient" not in raw and "Appointment" not in raw


async def test_the_published_times_move_with_the_clock_and_the_horizon(
    client: TestClient, network: Network, clock: Clock
) -> None:
    await setting(network)
    clock.now = datetime(2027, 3, 1, 18, 30, tzinfo=UTC)  # the 17:00 and 18:00 slots are gone
    starts = [s["start"] for s in await lines(client, "Slot")]
    assert starts == [
        "2027-03-01T19:00:00Z",
        "2027-03-08T17:00:00Z",
        "2027-03-08T18:00:00Z",
        "2027-03-08T19:00:00Z",
        # the horizon moved with the clock to 15 March 18:30; Los Angeles is on PDT by then
        "2027-03-15T16:00:00Z",
        "2027-03-15T17:00:00Z",
        "2027-03-15T18:00:00Z",
    ]


async def test_a_slot_file_answers_304_until_a_booking_changes_it(
    client: TestClient, network: Network
) -> None:
    setup = await setting(network)
    first = await client.get(f"{MANIFEST}/Slot.ndjson")
    assert first.status == 200
    etag = first.headers["ETag"]
    assert first.headers["Cache-Control"].startswith("public")
    same = await client.get(f"{MANIFEST}/Slot.ndjson", headers={"If-None-Match": etag})
    assert same.status == 304
    assert await same.read() == b""
    await booking(
        client,
        setup.spoke,
        service_id=setup.service.id,
        consultant_id=setup.consultant.id,
        patient_id=setup.patient.id,
        start=MONDAYS[0],
    )
    changed = await client.get(f"{MANIFEST}/Slot.ndjson", headers={"If-None-Match": etag})
    assert changed.status == 200
    assert changed.headers["ETag"] != etag
    statuses = [json.loads(line)["status"] for line in (await changed.text()).splitlines()]
    assert statuses[0] == "busy"
    # The Schedule file does not change with a booking.
    schedules = await client.get(f"{MANIFEST}/Schedule.ndjson")
    kept = await client.get(
        f"{MANIFEST}/Schedule.ndjson", headers={"If-None-Match": schedules.headers["ETag"]}
    )
    assert kept.status == 304


async def test_group_sessions_are_seats_not_slots_and_are_not_published(
    client: TestClient, network: Network
) -> None:
    group = await network.service(kind="group_session", name="Recovery group")
    await network.consultant([group], role="telehealth_counselor")
    assert await lines(client, "Schedule") == []
    assert await lines(client, "Slot") == []


async def test_an_unknown_file_is_404(client: TestClient) -> None:
    response = await client.get(f"{MANIFEST}/Patient.ndjson")
    assert response.status == 404


async def test_a_held_slot_is_busy_until_the_hold_expires(
    client: TestClient, network: Network, conn: asyncpg.Connection, clock: Clock
) -> None:
    setup = await setting(network)
    async with conn.transaction():
        await holds.hold(
            conn,
            setup.spoke.id,
            Trail("test"),
            holds.NewHold(setup.service.id, setup.consultant.id, MONDAYS[4]),
            now=clock.now,
            minutes=5,
        )
    statuses = {s["start"]: s["status"] for s in await lines(client, "Slot")}
    assert statuses["2027-03-08T18:00:00Z"] == "busy"
    assert list(statuses.values()).count("busy") == 1
    # No job runs: past its expiry (and into the next publishing step) the time is free again.
    clock.now += timedelta(minutes=6)
    statuses = {s["start"]: s["status"] for s in await lines(client, "Slot")}
    assert statuses["2027-03-08T18:00:00Z"] == "free"


async def test_the_capability_statement_declares_bulk_publish_as_a_system_operation(
    client: TestClient,
) -> None:
    response = await client.get("/fhir/r4/metadata")
    assert response.status == 200, await response.text()
    statement = await response.json()
    CapabilityStatement.model_validate(statement)
    [rest] = statement["rest"]
    [published] = [op for op in rest.get("operation", []) if op["name"] == "bulk-publish"]
    assert "smart-scheduling-links" in published["definition"]
    assert "no patient data" in published["documentation"]
