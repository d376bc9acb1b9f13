"""Every FHIR error is an OperationOutcome naming what is wrong: 401 with the Bearer challenge,
403 with the scope, 404 (an unknown path too), 405, 406, 400 for bad parameters and bodies,
never a 500 with a traceback; and what the core reads in a body is valid R4B or refused."""

from __future__ import annotations

import asyncpg
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from fhir.resources.R4B.appointment import Appointment
from pytest_aiohttp import AiohttpClient

from fhir_r4.core import BASE, Capability, FhirRoutes, fhir_response, read_resource
from telehub.app import create_app
from telehub.auth import Caller, issue_access_token
from telehub.settings import Settings
from tests.factories import Clock, Network
from tests.http.fhir.conftest import FHIR_JSON, FhirClient, issue_expressions, validated

_probe = FhirRoutes()


@_probe.route(
    "POST",
    f"{BASE}/Appointment/$probe",
    name="fhir_probe",
    scope="bookings:write",
    capability=Capability("Appointment"),
)
async def _echo(request: web.Request, caller: Caller) -> web.Response:
    """Reads an Appointment with the core's reader and answers it back."""
    return fhir_response(await read_resource(request, Appointment))


@_probe.route(
    "GET",
    f"{BASE}/Basic/broken",
    name="fhir_broken",
    scope="services:read",
    capability=Capability("Basic"),
)
async def _broken(request: web.Request, caller: Caller) -> web.Response:
    """A handler that fails unexpectedly."""
    raise RuntimeError("patient Quimby's record")  # never shown to the client


@pytest.fixture
async def probed(
    pool: asyncpg.Pool, aiohttp_client: AiohttpClient, settings: Settings, clock: Clock
) -> TestClient:
    """The whole app with two probe routes: the core's body reader, and a failing handler."""
    app = create_app(settings, pool=pool, clock=clock)
    app.router.add_routes(_probe.routes)
    return await aiohttp_client(app)


async def test_no_token_answers_401_with_the_bearer_challenge(client: TestClient) -> None:
    anonymous = FhirClient(client, None)

    outcome = await anonymous.search("Slot", {"service-type": "1"}, status=401)

    assert outcome["issue"][0]["code"] == "login"
    assert anonymous.last.headers["WWW-Authenticate"].startswith('Bearer realm="telehub"')
    forged = FhirClient(client, {"Authorization": "Bearer not.a.token"})
    refused = await forged.read("Practitioner", "1", status=401)
    assert refused["issue"][0]["code"] == "login"
    assert 'error="invalid_token"' in forged.last.headers["WWW-Authenticate"]


async def test_a_token_without_the_scope_answers_403_naming_it(
    client: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    caller = Caller("spoke", spoke.client_id, frozenset({"services:read"}), spoke.id)
    narrow = FhirClient(
        client, {"Authorization": f"Bearer {issue_access_token(network.settings, caller)}"}
    )

    await narrow.search("HealthcareService")
    outcome = await narrow.search("Slot", {"service-type": "1"}, status=403)

    assert outcome["issue"][0]["code"] == "forbidden"
    assert "slots:read" in outcome["issue"][0]["diagnostics"]
    assert 'scope="slots:read"' in narrow.last.headers["WWW-Authenticate"]
    await narrow.search("Patient", status=403)


async def test_unknown_paths_and_methods_answer_outcomes(
    client: TestClient, network: Network
) -> None:
    fhir = FhirClient(client, network.hub_admin_headers())

    unknown = await fhir.call("GET", "Medication/1", status=404)
    assert unknown["issue"][0]["code"] == "not-found"
    wrong_method = await fhir.call("DELETE", "Slot", status=405)
    assert wrong_method["issue"][0]["code"] == "not-supported"
    assert "GET" in fhir.last.headers["Allow"]


async def test_only_json_is_served(client: TestClient, network: Network) -> None:
    fhir = FhirClient(client, network.hub_admin_headers())

    xml = await fhir.call(
        "GET", "Practitioner", headers={"Accept": "application/fhir+xml"}, status=406
    )
    assert issue_expressions(xml) == ["Accept"]
    as_format = await fhir.call("GET", "Practitioner", params={"_format": "xml"}, status=406)
    assert issue_expressions(as_format) == ["_format"]
    await fhir.call("GET", "Practitioner", params={"_format": "json"})
    await fhir.call("GET", "Practitioner", headers={"Accept": "text/html, */*;q=0.1"})
    plain = await client.get(
        "/fhir/r4/Practitioner",
        headers={**network.hub_admin_headers(), "Accept": "application/json"},
    )
    assert plain.status == 200 and plain.content_type == "application/json"
    validated(await plain.json())


async def test_bad_query_text_is_refused_by_name(client: TestClient, network: Network) -> None:
    fhir = FhirClient(client, network.hub_admin_headers())

    outcome = await fhir.call("GET", "/fhir/r4/Practitioner?name=a%00b", status=400)

    assert issue_expressions(outcome) == ["name"]
    assert outcome["issue"][0]["code"] == "invalid"


async def test_answers_are_not_cached(client: TestClient, network: Network) -> None:
    fhir = FhirClient(client, network.hub_admin_headers())

    await fhir.search("Practitioner")

    assert fhir.last.headers["Cache-Control"] == "no-store"


async def test_a_body_is_read_as_valid_r4b_or_refused_by_element(
    probed: TestClient, network: Network
) -> None:
    spoke = await network.spoke()
    fhir = FhirClient(probed, spoke.headers)
    good = {
        "resourceType": "Appointment",
        "status": "booked",
        "participant": [{"actor": {"reference": "Patient/1"}, "status": "accepted"}],
    }

    assert (await fhir.call("POST", "Appointment/$probe", json=good))["status"] == "booked"
    bad_start = await fhir.call(
        "POST", "Appointment/$probe", json={**good, "start": "tomorrow"}, status=400
    )
    assert issue_expressions(bad_start) == ["Appointment.start"]
    bad_actor = await fhir.call(
        "POST",
        "Appointment/$probe",
        json={**good, "participant": [{"actor": {"reference": 7}, "status": "accepted"}]},
        status=400,
    )
    assert issue_expressions(bad_actor) == ["Appointment.participant[0].actor.reference"]
    other_type = await fhir.call(
        "POST", "Appointment/$probe", json={"resourceType": "Patient"}, status=400
    )
    assert issue_expressions(other_type) == ["resourceType"]
    not_json = await probed.post(
        "/fhir/r4/Appointment/$probe",
        data=b"{not json",
        headers={**spoke.headers, "Content-Type": FHIR_JSON},
    )
    assert not_json.status == 400
    assert issue_expressions(validated(await not_json.json(content_type=None))) == ["body"]
    as_text = await probed.post(
        "/fhir/r4/Appointment/$probe",
        data=b"{}",
        headers={**spoke.headers, "Content-Type": "text/plain"},
    )
    assert as_text.status == 415
    assert issue_expressions(validated(await as_text.json(content_type=None))) == ["Content-Type"]


async def test_an_unexpected_failure_is_an_outcome_without_details(
    probed: TestClient, network: Network
) -> None:
    fhir = FhirClient(probed, network.hub_admin_headers())

    outcome = await fhir.call("GET", "Basic/broken", status=500)

    assert outcome["issue"][0]["code"] == "exception"
    assert outcome["issue"][0]["severity"] == "fatal"
    assert "Quimby" not in str(outcome)
