"""The OpenAPI document is valid, covers every API route, and describes real responses."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.factories import Network, bookable


async def _document(client: TestClient) -> dict[str, Any]:
    response = await client.get("/api/v1/openapi.json")
    assert response.status == 200
    doc: dict[str, Any] = await response.json()
    return doc


def _conforms(doc: dict[str, Any], schema_name: str, instance: object) -> None:
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": doc["components"]}
    Draft202012Validator(schema).validate(instance)


async def test_the_document_is_valid_openapi_3_1(client: TestClient) -> None:
    doc = await _document(client)
    assert doc["openapi"] == "3.1.0"
    validate(doc)


async def test_every_api_route_is_described_and_nothing_else(client: TestClient) -> None:
    doc = await _document(client)
    served = {
        (route.method.lower(), route.resource.canonical)
        for route in client.app.router.routes()
        if route.resource is not None
        and route.resource.canonical.startswith("/api/v1/")
        and route.resource.canonical != "/api/v1/openapi.json"
        and route.method != "HEAD"
    }
    described = {(m, path) for path, ops in doc["paths"].items() for m in ops}
    assert served == described
    assert len(served) >= 14


async def test_every_operation_names_its_scope_and_its_error_responses(
    client: TestClient,
) -> None:
    doc = await _document(client)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op["security"][0]["oauth2"], (method, path)
            assert "401" in op["responses"] and "403" in op["responses"], (method, path)
    booking = doc["paths"]["/api/v1/bookings"]["post"]
    assert {"201", "409", "422"} <= set(booking["responses"])
    key = [p for p in booking["parameters"] if p["name"] == "Idempotency-Key"]
    assert key and key[0]["required"] is True


async def test_real_responses_conform_to_the_described_schemas(
    client: TestClient, network: Network
) -> None:
    doc = await _document(client)
    svc, consultant, spoke, patient = await bookable(network)
    slots = await client.get(
        "/api/v1/slots",
        params={
            "service_id": svc.id,
            "start": "2027-03-08T00:00:00Z",
            "end": "2027-03-09T00:00:00Z",
            "patient_state": "VT",
        },
        headers=spoke.headers,
    )
    slots_body = await slots.json()
    _conforms(doc, "SlotsOut", slots_body)
    booked = await client.post(
        "/api/v1/bookings",
        json={
            "service_id": svc.id,
            "consultant_id": consultant.id,
            "patient_id": str(patient.id),
            "start": slots_body["slots"][0]["start"],
        },
        headers={**spoke.headers, "Idempotency-Key": "schema-1"},
    )
    _conforms(doc, "BookingOut", await booked.json())
    services = await client.get("/api/v1/services", headers=spoke.headers)
    _conforms(doc, "ServicesOut", await services.json())
    problem = await client.get("/api/v1/slots", params={"service_id": 0}, headers=spoke.headers)
    _conforms(doc, "Problem", await problem.json())


async def test_every_operation_with_a_body_documents_400_413_and_415(client: TestClient) -> None:
    doc = await _document(client)
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert {"400", "503"} <= set(op["responses"]), (method, path)
            if "application/json" in op.get("requestBody", {}).get("content", {}):
                assert {"400", "413", "415", "422"} <= set(op["responses"]), (method, path)
            elif "requestBody" in op:  # a file: too large, or not of a type it may be
                assert {"400", "413", "422"} <= set(op["responses"]), (method, path)


async def test_every_201_documents_its_location(client: TestClient) -> None:
    doc = await _document(client)
    created = [
        (method, path, op["responses"]["201"])
        for path, operations in doc["paths"].items()
        for method, op in operations.items()
        if "201" in op["responses"]
    ]
    assert len(created) >= 9
    for method, path, answer in created:
        assert answer["headers"]["Location"]["required"] is True, (method, path)


async def test_weekly_hours_are_wall_clock_times_and_ranges_are_stated(client: TestClient) -> None:
    schemas = (await _document(client))["components"]["schemas"]
    for name in ("RuleIn", "RuleOut"):
        for end in ("start", "end"):
            field = schemas[name]["properties"][end]
            assert "format" not in field, (name, end)
            assert field["pattern"] == r"^\d{2}:\d{2}(:\d{2})?$"
    booking = schemas["BookingIn"]["properties"]
    assert booking["start"]["format"] == "date-time"
    assert booking["start"]["pattern"].startswith("^(19")  # the years an instant may have
    consultant = schemas["ConsultantIn"]["properties"]
    assert consultant["name"]["maxLength"] == 200 and consultant["name"]["pattern"]
    assert "VT" in schemas["PatientIn"]["properties"]["state"]["enum"]
    assert schemas["PatientIn"]["properties"]["birth_date"]["pattern"] == r"^(19|20)\d\d-"


async def test_a_clinic_is_told_the_hubs_exception_notes_may_be_null(client: TestClient) -> None:
    schemas = (await _document(client))["components"]["schemas"]
    note = schemas["ExceptionOut"]["properties"]["note"]
    assert {"type": "null"} in note["anyOf"]
    assert "hub only" in note["description"]


async def test_holidays_are_described_field_by_field(client: TestClient) -> None:
    schemas = (await _document(client))["components"]["schemas"]
    holiday = schemas["HolidayOut"]["properties"]
    assert holiday["day"]["format"] == "date" and holiday["name"]["type"] == "string"


async def test_the_idempotency_key_is_described_as_the_server_reads_it(
    client: TestClient, network: Network
) -> None:
    doc = await _document(client)
    described = [
        parameter["schema"]
        for operations in doc["paths"].values()
        for op in operations.values()
        for parameter in op.get("parameters", [])
        if parameter["name"] == "Idempotency-Key"
    ]
    assert len(described) >= 5
    for schema in described:
        assert schema == {
            "type": "string",
            "minLength": 1,
            "maxLength": 255,
            "pattern": r"^[\x21-\x7e]{1,255}$",
        }
    # A key the document allows is taken, and one it does not is refused, by the server.
    document_allows = Draft202012Validator(described[0]).is_valid
    spoke = await network.spoke()
    for n, (key, allowed) in enumerate(
        [
            ("retry-1", True),
            ("!~{}\"'<>", True),
            ("k" * 255, True),
            ("two words", False),
            ("k" * 256, False),
            ("", False),
        ]
    ):
        assert document_allows(key) is allowed, key
        response = await client.post(
            "/api/v1/patients",
            json={
                "mrn": f"MRN-{n}",
                "given_name": "Ada",
                "family_name": "Lovelace",
                "birth_date": "1980-01-01",
                "state": "VT",
                "confirm_new": True,  # the same Ada each time, a new MRN: someone else
            },
            headers={**spoke.headers, "Idempotency-Key": key},
        )
        assert response.status == (201 if allowed else 400), (key, await response.text())
