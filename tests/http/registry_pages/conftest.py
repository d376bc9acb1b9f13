"""Fixtures for the registry page tests."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.registry_pages.support import CareDesk, care_desk


@pytest.fixture
async def desk(client: TestClient, network: Network) -> CareDesk:
    """A New York clinic with its care manager signed in, a consultant and one patient."""
    return await care_desk(client, network)
