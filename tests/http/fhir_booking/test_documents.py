"""Signed consult notes as DocumentReference under 42 CFR part 2: a note the patient's consent
covers is disclosed (text, labels, what it answers) and accounted for with channel "fhir"; a
held one is never disclosed (404 on read, left out of a search with an outcome saying so)."""

from __future__ import annotations

import base64
from typing import Any

import asyncpg
from aiohttp.test_utils import TestClient

from consults import part2
from fhir_r4.appointment_resources import note_text
from tests.factories import NOTE_SECTIONS, Network, econsult, signed_note
from tests.http.fhir_booking.support import Clinic, fhir, outcome_names


async def _answered(
    client: TestClient, network: Network, *, consent: str | None
) -> tuple[Clinic, dict[str, Any], dict[str, Any]]:
    """(clinic, e-consult, signed note): a question the hub answered for a patient."""
    service = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent=consent)
    c = Clinic(service, consultant, spoke, patient)
    asked = await econsult(client, spoke, patient_id=patient.id, service_id=service.id)
    note = await signed_note(client, network.consultant_headers(consultant.id), asked["id"])
    return c, asked, note


async def _accounting(pool: asyncpg.Pool) -> list[tuple[str, str]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch("SELECT note_id, channel FROM disclosures ORDER BY id")
    return [(str(r["note_id"]), r["channel"]) for r in rows]


async def test_a_covered_note_is_disclosed_with_its_labels_and_accounted_for(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c, asked, note = await _answered(client, network, consent="tpo")
    before = await _accounting(pool)
    doc = await fhir(client, "GET", f"DocumentReference/{note['id']}", c.spoke.headers, expect=200)
    assert doc["subject"] == {"reference": f"Patient/{c.patient.id}"}
    assert doc["author"][0]["reference"] == f"Practitioner/{c.consultant.id}"
    assert doc["context"]["related"] == [{"reference": f"ServiceRequest/{asked['id']}"}]
    labels = {(s["system"], s["code"]) for s in doc["meta"]["security"]}
    assert labels == {(s, code) for s, code, _ in part2.SECURITY_LABELS}
    text = base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()
    assert "Low-dose buprenorphine initiation" in text
    assert await _accounting(pool) == [*before, (note["id"], "fhir")]

    found = await fhir(
        client,
        "GET",
        f"DocumentReference?patient=Patient/{c.patient.id}",
        c.spoke.headers,
        expect=200,
    )
    assert [e["resource"]["id"] for e in found["entry"]] == [note["id"]]
    assert await _accounting(pool) == [*before, (note["id"], "fhir"), (note["id"], "fhir")]


async def test_a_held_note_is_not_disclosed(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c, _, note = await _answered(client, network, consent=None)
    refused = await fhir(
        client, "GET", f"DocumentReference/{note['id']}", c.spoke.headers, expect=404
    )
    assert "consent" in refused["issue"][0]["diagnostics"]
    found = await fhir(
        client, "GET", f"DocumentReference?patient={c.patient.id}", c.spoke.headers, expect=200
    )
    entries = found["entry"]
    assert [e["search"]["mode"] for e in entries] == ["outcome"]
    assert entries[0]["resource"]["resourceType"] == "OperationOutcome"
    assert "1 signed consult note" in entries[0]["resource"]["issue"][0]["diagnostics"]
    assert "Low-dose" not in str(found)
    assert await _accounting(pool) == []


async def test_another_clinic_sees_no_note(client: TestClient, network: Network) -> None:
    c, _, note = await _answered(client, network, consent="tpo")
    other = await network.spoke()
    await fhir(client, "GET", f"DocumentReference/{note['id']}", other.headers, expect=404)
    await fhir(
        client, "GET", f"DocumentReference?patient={c.patient.id}", other.headers, expect=404
    )
    refused = await fhir(client, "GET", "DocumentReference", c.spoke.headers, expect=400)
    outcome_names(refused, "patient")


async def test_reading_a_note_is_audited(
    client: TestClient, network: Network, pool: asyncpg.Pool
) -> None:
    c, _, note = await _answered(client, network, consent="tpo")
    await fhir(client, "GET", f"DocumentReference/{note['id']}", c.spoke.headers, expect=200)
    async with pool.acquire() as conn:
        actors = await conn.fetch(
            "SELECT actor FROM audit_log WHERE action = 'read' AND record_type = 'consult_note'"
            " AND record_id = $1",
            note["id"],
        )
    assert [r["actor"] for r in actors] == [f"client:{c.spoke.client_id}"]


def test_a_notes_text_reads_as_headed_sections() -> None:
    text = note_text(
        {
            "assessment": "OUD, severe.",
            "recommendations": {"moud": "Buprenorphine.", "referrals": ""},
            "visit_recommended": True,
        }
    )
    assert text == (
        "Assessment:\nOUD, severe.\n\nRecommendations:\n- Moud: Buprenorphine.\n\n"
        "Visit recommended:\nYes"
    )


async def test_an_amendment_replaces_the_version_before_it(
    client: TestClient, network: Network
) -> None:
    c, asked, first = await _answered(client, network, consent="tpo")
    hub = network.consultant_headers(c.consultant.id)
    amended = {**NOTE_SECTIONS, "follow_up": "Re-consult in 2 weeks."}
    second = await signed_note(client, hub, asked["id"], amended)
    found = await fhir(
        client, "GET", f"DocumentReference?patient={c.patient.id}", c.spoke.headers, expect=200
    )
    by_id = {e["resource"]["id"]: e["resource"] for e in found["entry"]}
    assert list(by_id) == [second["id"], first["id"]]  # newest signature first
    assert by_id[second["id"]]["relatesTo"] == [
        {"code": "replaces", "target": {"reference": f"DocumentReference/{first['id']}"}}
    ]
    assert (by_id[second["id"]]["status"], by_id[second["id"]]["docStatus"]) == (
        "current",
        "amended",
    )
    assert by_id[first["id"]]["status"] == "superseded"
    assert "relatesTo" not in by_id[first["id"]]
