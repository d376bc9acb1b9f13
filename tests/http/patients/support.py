"""Adding and finding a clinic's patients through the API, for the patient tests."""

from __future__ import annotations

from typing import Any

from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from tests.factories import SpokeUser


def person(**fields: Any) -> dict[str, Any]:
    """A new patient's body: Jamie Fictus, born 1965-01-21, unless told otherwise."""
    body: dict[str, Any] = {
        "mrn": "AB123",
        "given_name": "Jamie",
        "family_name": "Fictus",
        "birth_date": "1965-01-21",
        "state": "VT",
    }
    body.update(fields)
    return body


async def add(client: TestClient, spoke: SpokeUser, **fields: Any) -> ClientResponse:
    """POST /api/v1/patients as the spoke."""
    return await client.post("/api/v1/patients", json=person(**fields), headers=spoke.headers)


async def added(client: TestClient, spoke: SpokeUser, **fields: Any) -> str:
    """A patient added through the API; its id."""
    response = await add(client, spoke, **fields)
    assert response.status == 201, await response.text()
    return str((await response.json())["id"])


async def found(client: TestClient, spoke: SpokeUser, **params: Any) -> list[str]:
    """The family, given names of GET /api/v1/patients's answer, in its order."""
    response = await client.get("/api/v1/patients", params=params, headers=spoke.headers)
    assert response.status == 200, await response.text()
    return [f"{p['family_name']}, {p['given_name']}" for p in (await response.json())["patients"]]
