"""Issue 15's "What to show": a clinic's EHR, registered with nothing but a public key (JWKS),
uses telehub's FHIR face from a real FHIR client library against a running server process.

It discovers the token endpoint from /.well-known/smart-configuration, authenticates with a
SMART Backend Services private_key_jwt (RS384, authlib) asking for SMART v2 system scopes only,
and then, with fhirpy: searches free Slots, `$hold`s one, `$book`s the hold, reads the
Appointment, cancels it by updating its status, and reads the consult note (DocumentReference)
of a patient whose Part 2 consent covers it. Every resource is checked as valid R4B.
"""

from __future__ import annotations

import asyncio
import base64
import os
import subprocess
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest
from authlib.integrations.httpx_client import AsyncOAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from cryptography.hazmat.primitives import serialization
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.documentreference import DocumentReference
from fhir.resources.R4B.slot import Slot
from fhirpy import AsyncFHIRClient
from fhirpy.base.exceptions import ForbiddenError

from consults.note_store import Note, Subject
from fhir_r4 import ids
from scheduling.store import Service
from spokes.store import Patient
from telehub.clients import create_client
from tests.e2e.processes import ROOT, TELEHUB, Server, free_port, wait_ready
from tests.factories import Network
from tests.factories.records import econsult_in_store, sign_in_domain
from tests.http.oauth_support import jwks_of, rsa_key

pytestmark = pytest.mark.slow
SECRET = "e2e-fhir-secret-key-" + "f" * 40
KID = "clinic-ehr-2026"
SMART_SCOPES = "system/Slot.rs system/Appointment.cruds system/DocumentReference.rs"
EVERY_DAY = tuple((day, clock_time(9), clock_time(12)) for day in range(7))


def spawn(database_url: str, log: Path) -> Server:
    """`telehub serve` on a loopback port, its base URL its own address (the token endpoint it
    advertises is reachable, and assertions name it as their audience)."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEHUB_SECRET_KEY": SECRET,
        "TELEHUB_BASE_URL": f"http://127.0.0.1:{port}",
        "TELEHUB_PORT": str(port),
        "TELEHUB_LOG_JSON": "true",
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TELEHUB, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
    return Server(proc, port, log)


@pytest.fixture
async def server(database_url: str, tmp_path: Path) -> AsyncIterator[Server]:
    """A running server on this test's database."""
    running = await asyncio.to_thread(spawn, database_url, tmp_path / "server.log")
    try:
        await asyncio.to_thread(wait_ready, running.url + "/readyz", running.proc)
        yield running
    finally:
        running.stop()


@dataclass
class Scene:
    """A Vermont clinic's EHR (a key-only backend client), its patient with a TPO consent, a
    video service and an e-consult service of one consultant, and a signed note."""

    client_id: str
    service: Service
    consultant_id: int
    patient: Patient
    note: Note


async def scene(pool: asyncpg.Pool, network: Network) -> Scene:
    video = await network.service()
    econsults = await network.service(kind="econsult", name="MOUD e-consult", turnaround_hours=48)
    consultant = await network.consultant([video, econsults], hours=EVERY_DAY)
    spoke = await network.spoke()
    patient = await network.patient(spoke, consent="tpo")
    now = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        ehr, secret = await create_client(
            conn,
            name="Clinic EHR",
            kind="spoke",
            spoke_id=spoke.id,
            jwks=jwks_of(rsa_key(), KID),
            with_secret=False,
        )
        assert secret is None  # nothing but its key
        econsult_id = await econsult_in_store(
            conn,
            patient=patient,
            service_id=econsults.id,
            consultant_id=consultant.id,
            at=now - timedelta(hours=2),
        )
        note = await sign_in_domain(conn, consultant.id, Subject(econsult_id=econsult_id), now=now)
    return Scene(ehr.client_id, video, consultant.id, patient, note)


async def smart_token(base_url: str, client_id: str) -> dict[str, Any]:
    """Discover the token endpoint and get a token with a private_key_jwt (RS384)."""
    async with (
        aiohttp.ClientSession() as http,
        http.get(base_url + "/.well-known/smart-configuration") as answer,
    ):
        assert answer.status == 200
        config = await answer.json()
    assert "private_key_jwt" in config["token_endpoint_auth_methods_supported"]
    assert "RS384" in config["token_endpoint_auth_signing_alg_values_supported"]
    assert set(SMART_SCOPES.split()) <= set(config["scopes_supported"])
    pem = rsa_key().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    signer = PrivateKeyJWT(
        config["token_endpoint"],
        alg="RS384",
        headers={"kid": KID},
        claims={"exp": int(time.time()) + 240},  # SMART: at most five minutes
    )
    async with AsyncOAuth2Client(
        client_id, pem, token_endpoint_auth_method=signer, scope=SMART_SCOPES, trust_env=False
    ) as oauth:
        token: dict[str, Any] = await oauth.fetch_token(
            config["token_endpoint"], grant_type="client_credentials"
        )
    return token


def zulu(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


async def free_slots(fhir: AsyncFHIRClient, s: Scene) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    found = (
        await fhir.resources("Slot")
        .search(schedule=f"Schedule/{ids.schedule_id(s.consultant_id, s.service.id)}")
        .search(**{"patient-state": "VT", "status": "free"})
        .search(start__ge=zulu(now), start__lt=zulu(now + timedelta(days=8)))
        .fetch()
    )
    slots = [slot.serialize() for slot in found]
    for slot in slots:
        Slot.model_validate(slot)
    return slots


async def test_an_ehr_with_only_its_key_holds_books_cancels_and_reads_a_note_over_fhir(
    server: Server, pool: asyncpg.Pool, network: Network
) -> None:
    s = await scene(pool, network)
    token = await smart_token(server.url, s.client_id)
    granted = set(token["scope"].split())
    assert set(SMART_SCOPES.split()) <= granted  # and the telehub scopes they map to
    fhir = AsyncFHIRClient(server.url + "/fhir/r4", authorization=f"Bearer {token['access_token']}")

    # Search free slots: a week of every morning, 3 hours a day.
    slots = await free_slots(fhir, s)
    assert len(slots) >= 18
    assert {slot["status"] for slot in slots} == {"free"}
    chosen = slots[-1]
    key = ids.parse_slot_id(chosen["id"])
    assert key is not None and key.consultant_id == s.consultant_id

    # $hold: a pending Appointment with its expiry.
    proposal = {
        "resourceType": "Appointment",
        "status": "proposed",
        "start": chosen["start"],
        "end": chosen["end"],
        "slot": [{"reference": f"Slot/{chosen['id']}"}],
        "participant": [
            {"actor": {"reference": f"Patient/{s.patient.id}"}, "status": "needs-action"}
        ],
    }
    held = await fhir.execute(
        "Appointment/$hold",
        data={
            "resourceType": "Parameters",
            "parameter": [{"name": "appointment-resource", "resource": proposal}],
        },
    )
    Appointment.model_validate(held)
    assert held["status"] == "pending"
    assert held["id"].startswith("hold-")
    assert held["extension"][0]["valueInstant"]  # until when it is held
    assert chosen["id"] not in {slot["id"] for slot in await free_slots(fhir, s)}

    # $book the hold.
    booked = await fhir.execute(
        "Appointment/$book",
        data={
            "resourceType": "Parameters",
            "parameter": [
                {
                    "name": "appointment-reference",
                    "valueReference": {"reference": f"Appointment/{held['id']}"},
                }
            ],
        },
    )
    Appointment.model_validate(booked)
    assert booked["status"] == "booked"
    assert booked["slot"] == [{"reference": f"Slot/{chosen['id']}"}]

    # Read the Appointment.
    appointment = await fhir.reference("Appointment", booked["id"]).to_resource()
    Appointment.model_validate(appointment.serialize())
    assert appointment["status"] == "booked"
    patients = [p["actor"]["reference"] for p in appointment["participant"]]
    assert f"Patient/{s.patient.id}" in patients

    # Cancel it by updating its status (PUT of the whole resource, as fhirpy saves).
    appointment["status"] = "cancelled"
    appointment["cancelationReason"] = {"text": "The patient asked to cancel"}
    await appointment.save()
    again = await fhir.reference("Appointment", booked["id"]).to_resource()
    assert again["status"] == "cancelled"
    assert chosen["id"] in {slot["id"] for slot in await free_slots(fhir, s)}

    # Read the consult note of the consenting patient, and find it by patient.
    document = await fhir.reference("DocumentReference", str(s.note.id)).to_resource()
    DocumentReference.model_validate(document.serialize())
    assert document["subject"]["reference"] == f"Patient/{s.patient.id}"
    text = base64.b64decode(document["content"][0]["attachment"]["data"]).decode()
    assert "buprenorphine" in text.lower()
    found = await fhir.resources("DocumentReference").search(patient=str(s.patient.id)).fetch()
    assert [d["id"] for d in found] == [str(s.note.id)]

    # The SMART scopes asked for did not include Patient: telehub's patients:read is refused.
    with pytest.raises(ForbiddenError) as refused:
        await fhir.reference("Patient", str(s.patient.id)).to_resource()
    assert "OperationOutcome" in str(refused.value) and "patients:read" in str(refused.value)

    # Each read and change of the booking and the note by the EHR left an audit row.
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT action, record_type, record_id FROM audit_log WHERE actor = $1",
            f"client:{s.client_id}",
        )
    done = {(r["action"], r["record_id"]) for r in rows}
    assert {("create", booked["id"]), ("read", booked["id"]), ("cancel", booked["id"])} <= done
    assert ("read", str(s.note.id)) in done

    # No patient data in any log line of the server.
    log = server.log.read_text()
    for secret in (s.patient.family_name, s.patient.mrn, "buprenorphine", "Buprenorphine"):
        assert secret not in log
