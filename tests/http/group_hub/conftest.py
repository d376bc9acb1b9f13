"""A group whose first session has started, and its counselor signed in to the hub's pages."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, sign_in
from tests.http.group_hub.support import STARTED, Group, group


@pytest.fixture
async def counselor_group(client: TestClient, network: Network) -> Group:
    """Four patients of two clinics in a counselor's weekly group; the counselor is signed in."""
    g = await group(network, first_start=STARTED)
    email, password = await network.user("consultant", consultant_id=g.counselor.id)
    assert (await sign_in(client, email, password)).status == 303
    return g
