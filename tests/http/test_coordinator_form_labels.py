"""The coordinator's forms summarise what to fix by the labels people see, in form order."""

from __future__ import annotations

import html as markup
import re

import asyncpg
from aiohttp.test_utils import TestClient

from tests.factories import Network
from tests.http.coordinator_support import coordinator, post_form


def summary(page: str) -> list[str]:
    """The error summary's lines, as read."""
    box = re.search(r'<div class="error-summary".*?</div>', page, flags=re.DOTALL)
    assert box, page
    return [markup.unescape(item) for item in re.findall(r'<a href="#f-[^"]+">([^<]*)</a>', box[0])]


async def test_a_refused_webhook_address_is_summarised_by_its_label_never_url(
    client: TestClient, network: Network, conn: asyncpg.Connection
) -> None:
    spoke = await network.spoke()
    await coordinator(client, network)
    response = await post_form(
        client, f"/coordinator/spokes/{spoke.id}", {"url": "ftp://ehr.example/in"}
    )
    assert response.status == 422
    page = await response.text()
    lines = summary(page)
    assert len(lines) == 1 and lines[0].startswith("Webhook address: must be an https URL")
    assert "Url:" not in page
    assert '<label for="f-url">Webhook address' in page
    assert await conn.fetchval("SELECT webhook_url FROM spokes") is None


async def test_a_refused_consultant_is_summarised_by_label_in_the_order_the_form_asks(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await post_form(
        client,
        "/coordinator/consultants",
        [
            ("licensed_states", "ZZ"),
            ("timezone", "Mars/Olympus"),
            ("role", "wizard"),
            ("name", ""),
        ],
    )
    assert response.status == 422
    lines = summary(await response.text())
    assert [line.split(":")[0] for line in lines] == ["Name", "Role", "Time zone", "Licensed in"]
    assert lines[0] == "Name: is required"


async def test_a_clients_missing_owner_is_summarised_as_the_clinic_never_spoke_id(
    client: TestClient, network: Network
) -> None:
    await coordinator(client, network)
    response = await post_form(client, "/coordinator/clients", {"name": "EHR", "kind": "spoke"})
    assert response.status == 422
    page = await response.text()
    assert summary(page) == ["Clinic: choose the clinic whose system this is"]
    assert "Spoke id" not in page
