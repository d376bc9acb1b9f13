"""Every operation needs its declared scope: a token without it gets 403 insufficient_scope."""

from __future__ import annotations

import re
from typing import Any

from aiohttp.test_utils import TestClient

from telehub.auth import ALL_SCOPES, Caller, issue_access_token
from telehub.settings import Settings

WRITES = {"post", "put", "patch", "delete"}


def _concrete(path: str, parameters: list[dict[str, Any]]) -> str:
    """The path with each parameter filled by a value of its documented type."""
    kinds = {p["name"]: p["schema"] for p in parameters if p["in"] == "path"}

    def value(match: re.Match[str]) -> str:
        schema = kinds.get(match.group(1), {})
        if schema.get("format") == "uuid":
            return "00000000-0000-4000-8000-000000000001"
        return "1"

    return re.sub(r"\{(\w+)\}", value, path)


def _without(settings: Settings, scope: str) -> dict[str, str]:
    """A valid hub admin token carrying every scope but one."""
    caller = Caller("hub_admin", "hub-test", ALL_SCOPES - {scope})
    return {"Authorization": f"Bearer {issue_access_token(settings, caller)}"}


async def test_every_documented_operation_refuses_a_token_without_its_scope(
    client: TestClient, settings: Settings
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    walked = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            (scope,) = op["security"][0]["oauth2"]
            assert scope in ALL_SCOPES, (method, path, scope)
            response = await client.request(
                method.upper(),
                _concrete(path, op.get("parameters", [])),
                json={} if "requestBody" in op else None,
                headers={**_without(settings, scope), "Idempotency-Key": "scope-walk"},
            )
            assert response.status == 403, (method, path, await response.text())
            challenge = response.headers["WWW-Authenticate"]
            assert 'error="insufficient_scope"' in challenge, (method, path)
            assert f'scope="{scope}"' in challenge, (method, path)
            body = await response.json()
            assert body["required_scope"] == scope
            walked += 1
    assert walked >= 30


async def test_every_write_operation_needs_a_scope_that_is_not_a_read_scope(
    client: TestClient,
) -> None:
    doc = await (await client.get("/api/v1/openapi.json")).json()
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            (scope,) = op["security"][0]["oauth2"]
            if method in WRITES:
                assert not scope.endswith(":read"), (method, path, scope)


async def test_recording_an_outcome_with_only_bookings_read_is_refused(
    client: TestClient, settings: Settings
) -> None:
    caller = Caller("hub_admin", "hub-test", frozenset({"bookings:read"}))
    response = await client.post(
        "/api/v1/bookings/00000000-0000-4000-8000-000000000001/outcome",
        json={"outcome": "completed"},
        headers={"Authorization": f"Bearer {issue_access_token(settings, caller)}"},
    )
    assert response.status == 403
    assert 'error="insufficient_scope"' in response.headers["WWW-Authenticate"]
