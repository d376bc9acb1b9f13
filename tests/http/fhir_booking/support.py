"""Helpers for the FHIR booking tests: requests as a FHIR client sends them, every answer
validated by the R4B models, and a clinic with one bookable consultant."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

from aiohttp.test_utils import TestClient
from fhir.resources.R4B import get_fhir_model_class

from hub.store import Consultant
from scheduling.store import Service
from spokes.store import Patient
from tests.factories import Network
from tests.factories.network import SpokeUser

FHIR_JSON = "application/fhir+json"
# Monday 8 March 2027, 09:00 in Los Angeles (PST): the consultant's first hour that day.
MONDAY_9 = "2027-03-08T17:00:00Z"
MONDAY_10 = "2027-03-08T18:00:00Z"


def valid(doc: dict[str, Any]) -> dict[str, Any]:
    """The document, after the R4B model of its resourceType accepted it (and its entries)."""
    model = get_fhir_model_class(doc["resourceType"])
    model.model_validate(doc)
    return doc


async def fhir(
    client: TestClient,
    method: str,
    path: str,
    headers: dict[str, str],
    body: Any = None,
    *,
    content_type: str = FHIR_JSON,
    expect: int,
) -> dict[str, Any]:
    """One FHIR request; asserts the status and the FHIR media type, validates the answer."""
    sent = {**headers, "Accept": FHIR_JSON}
    kwargs: dict[str, Any] = {}
    if body is not None:
        sent["Content-Type"] = content_type
        kwargs["data"] = json.dumps(body)
    response = await client.request(method, f"/fhir/r4/{path}", headers=sent, **kwargs)
    text = await response.text()
    assert response.status == expect, text
    assert response.content_type == FHIR_JSON, response.content_type
    doc = valid(await response.json(content_type=None))
    if response.status == 201:
        # Absolute, on the configured base URL, with the version when there is one.
        where = f"/fhir/r4/{doc['resourceType']}/{doc['id']}"
        version = (doc.get("meta") or {}).get("versionId")
        location = response.headers["Location"]
        assert location.startswith(("http://", "https://")), location
        assert location.endswith(f"{where}/_history/{version}" if version else where), location
    doc["_headers"] = dict(response.headers)
    return doc


def outcome_names(doc: dict[str, Any], expression: str) -> None:
    """The OperationOutcome names the element in an issue's expression."""
    assert doc["resourceType"] == "OperationOutcome", doc
    expressions = [e for issue in doc["issue"] for e in issue.get("expression", [])]
    assert any(expression in e for e in expressions), (expression, doc)


def parameters(**values: Any) -> dict[str, Any]:
    """A Parameters resource: each keyword (underscores as hyphens) with its value[x] part."""
    parts = []
    for name, value in values.items():
        parts.append({"name": name.replace("_", "-"), **value})
    return {"resourceType": "Parameters", "parameter": parts}


@dataclass
class Clinic:
    """A Vermont clinic with a patient, and an LA consultant free Mondays 9-12 for a service."""

    service: Service
    consultant: Consultant
    spoke: SpokeUser
    patient: Patient


async def clinic(network: Network, *, consent: str | None = "tpo") -> Clinic:
    """A clinic able to book: its service (60-minute video), consultant, spoke, patient."""
    service = await network.service()
    consultant = await network.consultant([service])
    spoke = await network.spoke()
    return Clinic(service, consultant, spoke, await network.patient(spoke, consent=consent))


def find_params(c: Clinic, *, patient: bool = True) -> dict[str, Any]:
    """$find for the clinic's service on Monday 8 March, for its patient."""
    values: dict[str, Any] = {
        "service_type": {"valueCoding": {"code": str(c.service.id)}},
        "start": {"valueDateTime": "2027-03-08T00:00:00Z"},
        "end": {"valueDateTime": "2027-03-09T00:00:00Z"},
    }
    if patient:
        values["patient"] = {"valueReference": {"reference": f"Patient/{c.patient.id}"}}
    else:
        values["patient_state"] = {"valueString": "VT"}
    return parameters(**values)


async def proposed(client: TestClient, c: Clinic) -> list[dict[str, Any]]:
    """The proposed Appointments $find offers the clinic's patient on Monday 8 March."""
    found = await fhir(
        client, "POST", "Appointment/$find", c.spoke.headers, find_params(c), expect=200
    )
    return [e["resource"] for e in found.get("entry", [])]


def proposal_at(proposals: list[dict[str, Any]], start: str) -> dict[str, Any]:
    """The proposed Appointment starting then."""
    [hit] = [p for p in proposals if p["start"] == start]
    return hit


def booking_params(appointment: dict[str, Any]) -> dict[str, Any]:
    """$hold/$book input carrying the Appointment."""
    return parameters(appointment_resource={"resource": appointment})


def key() -> dict[str, str]:
    """A fresh Idempotency-Key header."""
    return {"Idempotency-Key": uuid.uuid4().hex}
