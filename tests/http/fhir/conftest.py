"""The FHIR tests' client: every answer is checked to be application/fhir+json and a valid
R4B resource (a Bundle's entries each validated too), errors an OperationOutcome."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from aiohttp.test_utils import TestClient
from fhir.resources.R4B import get_fhir_model_class

from tests.factories import Network, SpokeUser

FHIR_JSON = "application/fhir+json"
BASE = "/fhir/r4"


def validated(body: Any) -> dict[str, Any]:
    """The resource, after checking it is valid R4B (a Bundle's entries each too)."""
    assert isinstance(body, dict) and "resourceType" in body, body
    model = get_fhir_model_class(body["resourceType"])
    model.model_validate(body)
    for entry in body.get("entry", []):
        inner = entry["resource"]
        get_fhir_model_class(inner["resourceType"]).model_validate(inner)
        assert entry["fullUrl"].endswith(f"/{inner['resourceType']}/{inner['id']}")
    return body


class FhirClient:
    """A FHIR client over the test app: `read`, `search`, `every` (following next links),
    `call` for any request; each answer's status asserted and its body validated."""

    def __init__(self, client: TestClient, headers: dict[str, str] | None) -> None:
        self.client = client
        self.headers = dict(headers or {})

    async def call(
        self,
        method: str,
        path: str,
        *,
        status: int = 200,
        params: Any = None,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        """Any request under /fhir/r4 (path relative to it or absolute), answered `status`."""
        url = path if path.startswith("/") else f"{BASE}/{path}"
        sent = {**self.headers, **(headers or {})}
        if json is not None:
            sent.setdefault("Content-Type", FHIR_JSON)
        response = await self.client.request(method, url, params=params, json=json, headers=sent)
        text = await response.text()
        assert response.status == status, text
        assert response.content_type == FHIR_JSON, (response.content_type, text)
        body = validated(await response.json(content_type=None))
        if status >= 400:
            assert body["resourceType"] == "OperationOutcome", body
        self.last = response
        return body

    async def read(self, kind: str, id_: str, *, status: int = 200) -> dict[str, Any]:
        """GET Kind/id."""
        return await self.call("GET", f"{kind}/{id_}", status=status)

    async def search(self, kind: str, params: Any = None, *, status: int = 200) -> dict[str, Any]:
        """GET Kind?params: a searchset Bundle (or, for an error status, an outcome)."""
        body = await self.call("GET", kind, params=params, status=status)
        if status == 200:
            assert body["resourceType"] == "Bundle" and body["type"] == "searchset", body
            assert body["link"][0]["relation"] == "self"
        return body

    async def every(self, kind: str, params: Any = None) -> list[dict[str, Any]]:
        """Every resource a search finds, page after page by the next links."""
        body = await self.search(kind, params)
        found = [e["resource"] for e in body.get("entry", [])]
        while (link := next_link(body)) is not None:
            parts = urlsplit(link)
            body = await self.call("GET", f"{parts.path}?{parts.query}")
            found.extend(e["resource"] for e in body.get("entry", []))
        return found


def next_link(bundle: dict[str, Any]) -> str | None:
    """The Bundle's next link, if any."""
    return next((x["url"] for x in bundle["link"] if x["relation"] == "next"), None)


def issue_expressions(outcome: dict[str, Any]) -> list[str]:
    """Every element or parameter an OperationOutcome's issues name."""
    return [x for issue in outcome["issue"] for x in issue.get("expression", [])]


@pytest.fixture
async def clinic_user(network: Network) -> SpokeUser:
    """A clinic with an API client whose token carries every spoke scope."""
    return await network.spoke()


@pytest.fixture
def fhir(client: TestClient, clinic_user: SpokeUser) -> FhirClient:
    """A FHIR client for the clinic's system."""
    return FhirClient(client, clinic_user.headers)
