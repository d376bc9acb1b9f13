"""The OpenAPI document says how patients are found and what a possible duplicate is."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_the_document_names_the_search_its_ranking_and_confirm_new(
    client: TestClient,
) -> None:
    document = await (await client.get("/api/v1/openapi.json")).json()
    find = document["paths"]["/api/v1/patients"]["get"]
    params = {p["name"]: p for p in find["parameters"]}
    assert {"q", "mrn", "limit", "cursor"} <= params.keys()
    assert (
        "exact MRN, then exact birth date, then a name starting with q"
        in (params["q"]["description"])
    )
    create = document["paths"]["/api/v1/patients"]["post"]
    assert "409" in create["responses"]
    body = document["components"]["schemas"]["PatientIn"]["properties"]
    assert body["confirm_new"]["type"] == "boolean"
    conflicts = document["components"]["responses"]["Problem409"]["description"]
    assert "This may be a patient the clinic has already" in conflicts
    assert "next_cursor" in document["components"]["schemas"]["PatientsOut"]["properties"]


async def test_the_possible_duplicate_problem_type_has_its_page(client: TestClient) -> None:
    response = await client.get("/problems/possible-duplicate")
    assert response.status == 200
    assert "confirm_new" in await response.text()
