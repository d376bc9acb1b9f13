"""The clinic's dashboard in Chromium: the hub's question quoted, a count leading to its list."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import busy_clinic, sign_in
from tests.e2e.conftest import screenshot
from tests.factories import Network, econsult, live_client

pytestmark = pytest.mark.slow

HUB_ASKS = "What dose of buprenorphine is the patient on today, and since when?"


async def test_a_scheduler_sees_the_hubs_question_and_follows_a_count_to_its_list(
    page: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    patient = (await network.patient(scene.spoke, family_name="Abernathy-Quill")).id
    async with network.pool.acquire() as conn:
        service = await conn.fetchval("SELECT id FROM services WHERE kind = 'econsult'")
    async with live_client(live) as http:
        asked = await econsult(
            http, scene.spoke, patient_id=patient, service_id=service, question="Taper plan?"
        )
        reply = await http.post(
            f"/api/v1/econsults/{asked['id']}/messages",
            json={"body": HUB_ASKS, "asks_clinic": True},
            headers=network.consultant_headers(scene.consultant_id),
        )
        assert reply.status == 201, await reply.text()
    email, password = await network.user("spoke_scheduler", spoke_id=scene.spoke.id)
    await sign_in(page, email, password, "/spoke")

    asked_list = page.locator("ul.asked")
    await expect(asked_list).to_contain_text(HUB_ASKS)
    await expect(asked_list).not_to_contain_text("Taper plan?")
    await screenshot(page, "clinic-dashboard")
    await page.get_by_role("link", name="1 e-consult waiting on your answer").click()

    await expect(page.get_by_role("heading", name="Waiting on your answer")).to_be_visible()
    await expect(page.get_by_role("table")).to_contain_text("Abernathy-Quill")
    await expect(page.get_by_role("table")).not_to_contain_text("Induction with ongoing")
    await screenshot(page, "clinic-econsults-waiting")
    for path, name in (
        ("/spoke/econsults/new", "clinic-econsult-new"),
        (f"/spoke/notes/{scene.note_id}", "clinic-note"),
        (f"/spoke/notes/{scene.note_id}/print", "clinic-note-print"),
    ):
        await page.goto(path)
        await screenshot(page, name)
