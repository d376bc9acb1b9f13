"""The printout of a consult note: its Print button prints, and is not on the paper."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import busy_clinic, sign_in
from tests.factories import Network

pytestmark = pytest.mark.slow

# Counts the print dialogs the page opens instead of opening one (headless has none to show).
COUNT_PRINTS = "window.prints = 0; window.print = () => { window.prints += 1; };"


async def test_the_print_button_opens_printing_and_is_hidden_on_paper(
    page: Page, network: Network, live: TestServer
) -> None:
    scene = await busy_clinic(network, live)
    email, password = await network.user("spoke_clinician", spoke_id=scene.spoke.id)
    await page.add_init_script(COUNT_PRINTS)
    path = f"/spoke/notes/{scene.note_id}/print"
    await sign_in(page, email, password, path)
    button = page.get_by_role("button", name="Print")

    await button.click()

    assert await page.evaluate("window.prints") == 1
    await expect(page.get_by_role("heading", name="What the clinic asked")).to_be_visible()
    await page.emulate_media(media="print")
    await expect(button).to_be_hidden()
    await expect(page.get_by_role("heading", name="What the clinic asked")).to_be_visible()
