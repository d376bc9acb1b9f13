"""The whole loop in a real browser, three people, pages only: book, ask, answer, close."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import time

import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Browser, Page, expect

from tests.e2e.conftest import answer_code_prompts, screenshot
from tests.factories import Network

pytestmark = pytest.mark.slow

CHARTS = (
    "Weekly capacity and booked hours",
    "E-consult turnaround by consultant",
    "Loop closure by spoke",
    "No-show rate by week",
)


@asynccontextmanager
async def signed_in(
    browser: Browser, live: TestServer, email: str, password: str, path: str
) -> AsyncIterator[Page]:
    """A person's own browser window, signed in through the sign-in page."""
    context = await browser.new_context(
        base_url=str(live.make_url("/")).rstrip("/"), viewport={"width": 1024, "height": 900}
    )
    page = await context.new_page()
    page.set_default_timeout(10_000)
    await answer_code_prompts(page, live.app)  # hub staff and consultants type a code too
    await page.goto(path)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    try:
        yield page
    finally:
        await context.close()


async def test_a_clinic_books_asks_the_hub_answers_and_the_clinic_closes_the_loop(
    browser: Browser, live: TestServer, network: Network
) -> None:
    video = await network.service(name="Video visit", duration_minutes=60)
    econsult = await network.service(
        kind="econsult",
        name="E-consult: OUD",
        duration_minutes=30,
        turnaround_hours=48,
        roles=["psychiatric_consultant"],
    )
    hours = tuple((d, time(9), time(12)) for d in range(5))
    consultant = await network.consultant([video, econsult], hours=hours)
    spoke = await network.spoke(timezone="America/New_York")
    patient = await network.patient(spoke, family_name="Quimby")
    scheduler = await network.user("spoke_scheduler", spoke_id=spoke.id)
    doctor = await network.user("consultant", consultant_id=consultant.id)
    coordinator = await network.user("hub_coordinator")

    async with signed_in(browser, live, *scheduler, "/spoke/find") as clinic:
        # Monday 1 March 2027; the consultant works 09:00-12:00 in Los Angeles: 12:00 here.
        await clinic.get_by_label("Service").select_option(str(video.id))
        await clinic.get_by_role("button", name="Show open times").click()
        await screenshot(clinic, "loop-1-find")
        await clinic.get_by_role(
            "link", name=f"Book Monday 1 March at 12:00 with {consultant.name}"
        ).click()
        await clinic.get_by_label("Find a patient by MRN").fill(patient.mrn)
        await clinic.get_by_label("Find a patient by MRN").press("Enter")
        await clinic.get_by_label("Reason for the session").fill("MOUD follow-up")
        await clinic.get_by_role("button", name="Book Mon 1 Mar 2027, 12:00").click()
        await expect(clinic.get_by_role("status")).to_have_text("Booked for Mon 1 Mar 2027, 12:00.")
        await clinic.get_by_role("link", name="Dashboard").click()
        await expect(clinic.get_by_role("table").first).to_contain_text("Quimby")
        await screenshot(clinic, "loop-2-dashboard")

        await clinic.get_by_role("link", name="E-consults", exact=True).click()
        await clinic.get_by_role("link", name=re.compile("new e-consult", re.I)).click()
        await clinic.get_by_label("Patient", exact=True).select_option(str(patient.id))
        await clinic.get_by_label("E-consult service").select_option(str(econsult.id))
        await clinic.get_by_label("Referring clinician").fill("Dr. Lena Park, MD")
        await clinic.get_by_label("Your question").fill("Depression on buprenorphine: SSRI?")
        await clinic.get_by_label("PHQ-9 (depression) (optional)").fill("17")
        await clinic.get_by_role("button", name="Send to the hub").click()
        await expect(clinic.get_by_role("status")).to_contain_text("E-consult sent.")

    async with signed_in(browser, live, *doctor, "/hub/worklist") as hub:
        await hub.get_by_role("link", name=re.compile("Quimby")).click()
        await hub.get_by_label("Assessment").fill("OUD in early remission; moderate depression.")
        await hub.get_by_label("Medications").fill("Start sertraline 50 mg daily.")
        await hub.get_by_label("Follow-up").fill("Repeat PHQ-9 in 4 weeks.")
        await hub.get_by_role("button", name="Sign and send to the clinic").click()
        await expect(hub.get_by_role("status")).to_contain_text("Note version 1 is signed")
        await screenshot(hub, "loop-3-signed")

    async with signed_in(browser, live, *scheduler, "/spoke/inbox") as clinic:
        await clinic.get_by_role("link", name=re.compile("Quimby")).click()
        await expect(clinic.locator("main")).to_contain_text("Start sertraline 50 mg daily.")
        await clinic.get_by_role("button", name="Acknowledge").click()
        await expect(clinic.get_by_role("status")).to_have_text("Acknowledged: the loop is closed.")
        await screenshot(clinic, "loop-4-acknowledged")

    async with signed_in(browser, live, *coordinator, "/coordinator") as program:
        for name in CHARTS:
            await expect(program.get_by_role("img", name=name)).to_be_visible()
        await expect(program.get_by_role("table", name=re.compile("Loop closure"))).to_contain_text(
            spoke.name
        )
        await screenshot(program, "loop-5-program")
