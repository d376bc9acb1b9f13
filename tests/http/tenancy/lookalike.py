"""Another spoke's record must answer exactly like one that does not exist."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp.test_utils import TestClient

from tests.http.problems import problem_of
from tests.http.tenancy.support import comparable


async def refused_like_missing(
    client: TestClient,
    method: str,
    path: str,
    theirs: object,
    headers: dict[str, str],
    *,
    json: Any = None,
) -> dict[str, Any]:
    """Send `method path` with `{id}` filled with their record's id, then with a random one;
    assert both are 404 problems alike but for the instance, and return the first."""
    refusal = await client.request(method, path.format(id=theirs), headers=headers, json=json)
    missing = await client.request(method, path.format(id=uuid.uuid4()), headers=headers, json=json)
    refused = await problem_of(refusal, 404)
    assert comparable(refused) == comparable(await problem_of(missing, 404))
    return refused
