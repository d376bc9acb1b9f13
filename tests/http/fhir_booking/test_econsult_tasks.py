"""E-consults as ServiceRequest and the closed loop as a Task: requested (submitted), accepted
(assigned), in-progress (the note is being written), on-hold (the hub waits for the clinic),
completed (the note is signed)."""

from __future__ import annotations

import dataclasses

import pytest
from aiohttp.test_utils import TestClient

from telehub.settings import Settings
from tests.factories import Network, draft_note, econsult, sign_note
from tests.http.fhir_booking.support import fhir, outcome_names


@pytest.fixture
def settings(settings: Settings) -> Settings:
    """The hub assigns e-consults by hand here, so one waits as requested first."""
    return dataclasses.replace(settings, econsult_auto_assign=False)


async def test_task_status_follows_the_loop(client: TestClient, network: Network) -> None:
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(
        client, spoke, patient_id=patient.id, service_id=service.id, urgency="urgent"
    )
    hub = network.consultant_headers(consultant.id)

    async def status() -> str:
        task = await fhir(client, "GET", f"Task/{asked['id']}", spoke.headers, expect=200)
        assert task["focus"] == {"reference": f"ServiceRequest/{asked['id']}"}
        assert task["for"] == {"reference": f"Patient/{patient.id}"}
        return str(task["status"])

    assert await status() == "requested"
    request = await fhir(client, "GET", f"ServiceRequest/{asked['id']}", spoke.headers, expect=200)
    assert (request["status"], request["intent"], request["priority"]) == (
        "active",
        "order",
        "urgent",
    )
    assert request["subject"] == {"reference": f"Patient/{patient.id}"}

    assigned = await client.post(
        f"/api/v1/econsults/{asked['id']}/assign",
        json={"consultant_id": consultant.id},
        headers=network.hub_admin_headers(),
    )
    assert assigned.status == 200, await assigned.text()
    assert await status() == "accepted"

    draft = await draft_note(client, hub, asked["id"])
    assert await status() == "in-progress"

    asks = await client.post(
        f"/api/v1/econsults/{asked['id']}/messages",
        json={"body": "Most recent urine drug screen?", "asks_clinic": True},
        headers=hub,
    )
    assert asks.status == 201, await asks.text()
    assert await status() == "on-hold"

    answers = await client.post(
        f"/api/v1/econsults/{asked['id']}/messages",
        json={"body": "Positive for fentanyl, negative otherwise."},
        headers=spoke.headers,
    )
    assert answers.status == 201, await answers.text()
    assert await status() == "in-progress"

    await sign_note(client, hub, draft["id"])
    assert await status() == "completed"
    done = await fhir(client, "GET", f"ServiceRequest/{asked['id']}", spoke.headers, expect=200)
    assert done["status"] == "completed"

    tasks = await fhir(
        client, "GET", f"Task?patient=Patient/{patient.id}", spoke.headers, expect=200
    )
    assert [(e["resource"]["id"], e["resource"]["status"]) for e in tasks["entry"]] == [
        (asked["id"], "completed")
    ]
    requests = await fhir(
        client, "GET", f"ServiceRequest?patient={patient.id}", spoke.headers, expect=200
    )
    assert [e["resource"]["id"] for e in requests["entry"]] == [asked["id"]]


async def test_another_clinics_econsult_is_404(client: TestClient, network: Network) -> None:
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=service.id)
    other = await network.spoke()
    for path in (
        f"Task/{asked['id']}",
        f"ServiceRequest/{asked['id']}",
        f"Task?patient={patient.id}",
    ):
        missing = await fhir(client, "GET", path, other.headers, expect=404)
        assert missing["issue"][0]["code"] == "not-found"
    refused = await fhir(client, "GET", "Task?patient=nobody", spoke.headers, expect=400)
    outcome_names(refused, "patient")
