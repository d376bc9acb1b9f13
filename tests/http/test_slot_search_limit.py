"""GET /api/v1/slots?limit=N: the first N open slots of the window, soonest first."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import Network, day_window
from tests.factories.slot_edges import service_with_edges
from tests.http.problems import problem_of

NOW = datetime(2027, 3, 1, 15, 0, tzinfo=UTC)  # the clock fixture's


async def test_a_limit_answers_the_first_n_of_the_whole_answer_over_28_and_92_days(
    client: TestClient, network: Network
) -> None:
    service = await service_with_edges(network)
    spoke = await network.spoke()

    async def slots(days: int, limit: int | None = None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {
            "service_id": service.id,
            "patient_state": "VT",
            **day_window(NOW, days),
        }
        if limit is not None:
            params["limit"] = limit
        response = await client.get("/api/v1/slots", params=params, headers=spoke.headers)
        assert response.status == 200, await response.text()
        found: list[dict[str, Any]] = (await response.json())["slots"]
        return found

    for days in (28, 92):
        whole = await slots(days)
        assert len(whole) > 300
        for limit in (1, 7, 100, 300):
            assert await slots(days, limit) == whole[:limit], (days, limit)
    week = await slots(7)
    assert len(week) < 1000
    assert await slots(7, 1000) == week  # a limit beyond the count: all of them


async def test_a_limit_out_of_range_or_not_a_whole_number_is_refused_naming_it(
    client: TestClient, network: Network
) -> None:
    service = await network.service()
    spoke = await network.spoke()
    for bad in ("0", "1001", "-3", "2.5", "ten", ""):
        response = await client.get(
            "/api/v1/slots",
            params={
                "service_id": service.id,
                "patient_state": "VT",
                **day_window(NOW),
                "limit": bad,
            },
            headers=spoke.headers,
        )
        problem = await problem_of(response, 422)
        assert [e["field"] for e in problem["errors"]] == ["limit"], (bad, problem)


async def test_the_openapi_document_states_the_limits_bounds(client: TestClient) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    parameters = doc["paths"]["/api/v1/slots"]["get"]["parameters"]
    (limit,) = (p for p in parameters if p["name"] == "limit")
    assert limit["in"] == "query" and not limit["required"]
    assert {"type": "integer", "minimum": 1, "maximum": 1000} in limit["schema"]["anyOf"]
