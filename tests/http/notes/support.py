"""What the consult note tests share: the e-consult loop the `loop` fixture builds
(conftest.py), and the e-consult as its clinic reads it."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import (
    SpokeUser,
)


class Loop:
    """An answered-to-be e-consult: its clinic, consultant and a video service."""

    spoke: SpokeUser
    econsult_id: str
    consultant_id: int
    hub: dict[str, str]
    video_service_id: int


async def clinic_view(client: TestClient, loop: Loop) -> Any:
    """The e-consult as its clinic reads it through the API."""
    return await (
        await client.get(f"/api/v1/econsults/{loop.econsult_id}", headers=loop.spoke.headers)
    ).json()
