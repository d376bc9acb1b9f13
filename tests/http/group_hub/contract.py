"""Drives the attendance operations once, for the OpenAPI contract test
(tests/http/test_response_schemas.py), which checks each answer against the document."""

from __future__ import annotations

from typing import Any

from tests.factories import Network
from tests.http.group_hub.support import STARTED, group


async def cover_attendance(api: Any, network: Network) -> None:
    """The counselor reads an occurrence's roster and records attendance in it."""
    made = await group(network, first_start=STARTED)
    counselor = network.consultant_headers(made.counselor.id)
    ids = {"id": str(made.id), "position": 2}
    path = "/api/v1/groups/{id}/occurrences/{position}/attendance"
    await api.call("GET", path, counselor, status=200, ids=ids)
    await api.call(
        "POST",
        path,
        counselor,
        status=200,
        ids=ids,
        json={"attendance": [{"seat": 1, "attendance": "excused"}]},
    )
