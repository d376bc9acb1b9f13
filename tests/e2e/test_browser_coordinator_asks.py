"""In a real browser: revoking an API client asks once, saying what will happen; the question
opens without script, and only its answer revokes."""

from __future__ import annotations

import asyncpg
import pytest
from playwright.async_api import Page, expect

from tests.e2e.conftest import screenshot
from tests.factories import Network

pytestmark = pytest.mark.slow


async def test_a_coordinator_is_asked_once_before_revoking_a_client(
    page: Page, network: Network, pool: asyncpg.Pool
) -> None:
    email, password = await network.user("hub_coordinator")
    await page.goto("/coordinator/clients")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.keyboard.press("Enter")
    await page.get_by_label("Name").fill("Hub reports")
    await page.get_by_role("combobox", name="Kind").select_option("hub_admin")
    await page.get_by_role("button", name="Register client").click()
    await expect(page.get_by_role("status")).to_contain_text("Hub reports is registered")
    await page.get_by_role("link", name="API clients").click()

    row = page.get_by_role("row", name="Hub reports")
    yes = row.get_by_role("button", name="Yes, revoke")
    await expect(yes).to_be_hidden()
    await row.get_by_text("Revoke…").click()
    await expect(row.get_by_role("group", name="Revoke")).to_contain_text(
        "Hub reports will get no new tokens"
    )
    await expect(row).to_contain_text("This cannot be undone")
    await screenshot(page, "coordinator-revoke-asks")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SELECT active FROM api_clients WHERE name = 'Hub reports'")

    await yes.click()
    await expect(page.get_by_role("status")).to_contain_text("Revoked Hub reports")
    await expect(page.get_by_role("row", name="Hub reports")).to_contain_text("revoked")
    async with pool.acquire() as conn:
        assert not await conn.fetchval("SELECT active FROM api_clients WHERE name = 'Hub reports'")
