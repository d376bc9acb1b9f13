"""Reading the problem documents (RFC 9457) that the API refuses with."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import ClientResponse

PROBLEM_JSON = "application/problem+json"


async def problem_of(response: ClientResponse, status: int) -> dict[str, Any]:
    """The problem document of a refusal, after checking its status and media type."""
    text = await response.text()
    assert response.status == status, text
    assert response.content_type == PROBLEM_JSON
    problem: dict[str, Any] = json.loads(text)
    assert problem["status"] == status
    return problem
