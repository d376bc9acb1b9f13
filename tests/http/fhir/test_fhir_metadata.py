"""The CapabilityStatement: public, valid R4B, and exactly what the mounted routes serve."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from telehub.keys import FHIR_MOUNTED
from tests.factories import Network
from tests.http.fhir.conftest import FhirClient

_METHODS = {
    ("GET", False): "search-type",
    ("POST", False): "create",
    ("GET", True): "read",
    ("PUT", True): "update",
    ("PATCH", True): "patch",
    ("DELETE", True): "delete",
}
_NOT_RESOURCES = {"/fhir/r4/metadata", "/fhir/r4/.well-known/smart-configuration"}


def _served(client: TestClient) -> tuple[set[tuple[str, str]], set[tuple[str, str]], set[str]]:
    """What the app's router serves under /fhir/r4: (type, interaction), (type, operation),
    and system operations."""
    interactions: set[tuple[str, str]] = set()
    operations: set[tuple[str, str]] = set()
    system: set[str] = set()
    for route in client.app.router.routes():
        path = route.resource.canonical if route.resource else ""
        if not path.startswith("/fhir/r4/") or path in _NOT_RESOURCES or route.method == "HEAD":
            continue
        parts = path.removeprefix("/fhir/r4/").split("/")
        if parts[0].startswith("$"):
            system.add(parts[0][1:])
        elif len(parts) == 2 and parts[1].startswith("$"):
            operations.add((parts[0], parts[1][1:]))
        elif len(parts) <= 2:
            interactions.add((parts[0], _METHODS[(route.method, len(parts) == 2)]))
    return interactions, operations, system


async def test_metadata_needs_no_token_and_is_valid_r4(client: TestClient) -> None:
    statement = await FhirClient(client, None).call("GET", "metadata")

    assert statement["resourceType"] == "CapabilityStatement"
    assert statement["fhirVersion"] == "4.0.1"
    assert statement["kind"] == "instance"
    assert set(statement["format"]) == {"json", "application/fhir+json"}
    assert statement["implementation"]["url"].endswith("/fhir/r4")


async def test_metadata_says_exactly_what_the_router_serves(client: TestClient) -> None:
    statement = await FhirClient(client, None).call("GET", "metadata")
    rest = statement["rest"][0]

    declared = {(r["type"], i["code"]) for r in rest["resource"] for i in r.get("interaction", [])}
    declared_ops = {
        (r["type"], o["name"]) for r in rest["resource"] for o in r.get("operation", [])
    }
    system_ops = {o["name"] for o in rest.get("operation", [])}
    interactions, operations, system = _served(client)

    assert declared == interactions
    assert declared_ops == operations
    assert system_ops == system
    # The parts this brief names are all there.
    for kind in ("Practitioner", "PractitionerRole", "HealthcareService", "Organization"):
        assert {(kind, "read"), (kind, "search-type")} <= declared
    assert {
        ("Schedule", "read"),
        ("Slot", "read"),
        ("Slot", "search-type"),
        ("Patient", "read"),
    } <= (declared)


async def test_each_search_lists_the_parameters_it_takes(client: TestClient) -> None:
    statement = await FhirClient(client, None).call("GET", "metadata")
    by_type: dict[str, dict[str, Any]] = {r["type"]: r for r in statement["rest"][0]["resource"]}

    slot = {p["name"]: p for p in by_type["Slot"]["searchParam"]}
    assert set(slot) == {"schedule", "start", "service-type", "status", "patient-state"}
    assert slot["start"]["type"] == "date" and slot["schedule"]["type"] == "reference"
    assert slot["patient-state"]["definition"].startswith("urn:telehub:")
    patient = {p["name"] for p in by_type["Patient"]["searchParam"]}
    assert patient == {"identifier", "name"}
    # Each interaction says which telehub scope it needs.
    read = next(i for i in by_type["Patient"]["interaction"] if i["code"] == "read")
    assert "patients:read" in read["documentation"]


async def test_a_parameter_the_statement_lists_is_one_the_search_takes(
    client: TestClient, network: Network
) -> None:
    """Every declared search parameter is accepted by its search (not refused as unknown)."""
    hub = FhirClient(client, network.hub_admin_headers())
    spoke = FhirClient(client, (await network.spoke()).headers)
    statement = await hub.call("GET", "metadata")
    for resource in statement["rest"][0]["resource"]:
        for param in resource.get("searchParam", []):
            who = (
                spoke
                if resource["type"]
                in {"Patient", "Appointment", "DocumentReference", "ServiceRequest", "Task"}
                else hub
            )
            response = await client.get(
                f"/fhir/r4/{resource['type']}",
                params={param["name"]: "x"},
                headers=who.headers,
            )
            text = await response.text()
            assert "is not a search parameter" not in text, (resource["type"], param["name"])
            assert response.status != 500, text


async def test_security_is_smart_on_fhir_with_the_token_endpoint(client: TestClient) -> None:
    statement = await FhirClient(client, None).call("GET", "metadata")
    security = statement["rest"][0]["security"]

    coding = security["service"][0]["coding"][0]
    assert coding == {
        "system": "http://terminology.hl7.org/CodeSystem/restful-security-service",
        "code": "SMART-on-FHIR",
    }
    uris = security["extension"][0]
    assert uris["url"] == "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"
    assert uris["extension"][0]["url"] == "token"
    assert uris["extension"][0]["valueUri"].endswith("/oauth/token")
    config = await client.get("/fhir/r4/.well-known/smart-configuration")
    assert config.status == 200
    body = await config.json()
    assert body["token_endpoint"] == uris["extension"][0]["valueUri"]
    assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
    assert re.search(r"system/Slot\.", " ".join(body["scopes_supported"]))


async def test_the_statement_comes_from_the_mounted_tables(client: TestClient) -> None:
    mounted = client.app[FHIR_MOUNTED]
    statement = await FhirClient(client, None).call("GET", "metadata")

    declared = {r["type"] for r in statement["rest"][0]["resource"]}
    assert declared == {c.resource for c in mounted.capabilities if c.resource is not None}
