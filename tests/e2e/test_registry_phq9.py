"""A care manager answers a PHQ-9 in Chromium: the score and severity show as the questions are
answered, question 9 above "Not at all" warns at once, and once saved the safety flag is on the
episode and its patient is at the top of the caseload."""

from __future__ import annotations

from datetime import date

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.e2e.clinic_scene import sign_in
from tests.e2e.conftest import PHONE_WIDTH, TabOf, screenshot
from tests.e2e.fit import misfit_pages
from tests.factories import Clock, Network
from tests.factories import care as cf

pytestmark = pytest.mark.slow

PASSWORD = "correct horse battery staple"
ANSWERS = ("More than half the days", "More than half the days") + ("Several days",) * 5
# Question 8 "Not at all", question 9 "Several days": 2+2+1*5+0+1 = 10, moderate.


async def test_a_care_manager_enters_a_phq9_with_item_9_and_sees_the_safety_flag(
    page: Page, network: Network, live: TestServer, pool: asyncpg.Pool, clock: Clock
) -> None:
    clinic = await cf.care_clinic(network)
    patient = await network.patient(clinic.spoke, family_name="Quimby")
    longer = await network.patient(clinic.spoke, family_name="Abbott")
    async with pool.acquire() as conn:
        # Abbott is longer in treatment, so first on the caseload until Quimby's flag.
        for who, started in ((longer, date(2026, 11, 2)), (patient, date(2027, 1, 4))):
            await cf.enrol(
                conn,
                clinic.spoke,
                who.id,
                care_manager_id=clinic.care_manager.id,
                consultant_id=clinic.consultant.id,
                started_on=started,
                now=clock.now,
            )
    await sign_in(page, clinic.care_manager.email, PASSWORD, "/spoke/registry")
    first = page.locator("table.registry tbody > tr").first
    await expect(first).to_contain_text("Abbott")

    await page.goto(f"/spoke/patients/{patient.id}")
    await page.get_by_role("link", name="Collaborative care").click()
    await expect(page.get_by_role("heading", level=1)).to_contain_text("Quimby")
    form = page.locator("#form-phq9")
    score = form.locator("[data-score]")
    warning = form.locator("[data-safety-warning]")
    for i, answer in enumerate(ANSWERS):
        await form.locator(f"#f-phq9-items-{i}").get_by_label(answer).check()
    await expect(score).to_contain_text("Score so far: 9 (7 of 9 answered)")
    await form.locator("#f-phq9-items-7").get_by_label("Not at all").check()
    await expect(warning).to_be_hidden()
    await form.locator("#f-phq9-items-8").get_by_label("Several days").check()
    await expect(score).to_have_text("Score: 10 of 27, moderate")
    await expect(warning).to_be_visible()
    await expect(warning).to_contain_text("raises the safety flag")
    await screenshot(page, "registry-phq9-answered")

    await form.get_by_role("button", name="Save the PHQ-9").click()
    await expect(page.locator("#safety")).to_be_visible()
    await expect(page.locator("#safety")).to_contain_text("Safety flag")
    await expect(page.locator("#measures")).to_be_visible()
    await expect(page.locator("table tr[id^=measure-]").first).to_contain_text("10 of 27: Moderate")
    await screenshot(page, "registry-episode-safety")

    await page.get_by_role("link", name="Registry").first.click()
    first = page.locator("table.registry tbody > tr").first
    await expect(first).to_contain_text("Quimby")
    await expect(first).to_contain_text("Safety: PHQ-9 item 9 answered above 0")
    await screenshot(page, "registry-caseload-safety")


@pytest.mark.parametrize("width", [PHONE_WIDTH, 1280], ids=["phone", "desktop"])
async def test_the_registry_pages_fit_a_phone_and_pass_axe(
    width: int, tab_of: TabOf, network: Network, pool: asyncpg.Pool, clock: Clock
) -> None:
    tab = await tab_of(width)
    clinic = await cf.care_clinic(network, role="addiction_medicine_specialist")
    patient = await network.patient(clinic.spoke, family_name="Quimby")
    async with pool.acquire() as conn:
        e = await cf.enrol(
            conn,
            clinic.spoke,
            patient.id,
            care_manager_id=clinic.care_manager.id,
            consultant_id=clinic.consultant.id,
            started_on=date(2027, 1, 4),
            now=clock.now,
            program="oud",
        )
        for on, total, item9 in ((date(2027, 1, 4), 18, 0), (date(2027, 2, 22), 11, 1)):
            await cf.measure(conn, e, "phq9", on, now=clock.now, items=cf.phq9(total, item9=item9))
        await cf.measure(conn, e, "gad7", date(2027, 1, 4), now=clock.now, items=cf.gad7(12))
        await cf.contact(conn, e, date(2027, 2, 3), now=clock.now, minutes=40)
    await sign_in(tab, clinic.care_manager.email, PASSWORD, "/spoke/registry")
    found = await misfit_pages(
        tab,
        [
            (f"registry-{width}-caseload", "/spoke/registry"),
            (f"registry-{width}-episode", f"/spoke/registry/{e.id}"),
            (f"registry-{width}-contact", f"/spoke/registry/{e.id}/contact"),
            (f"registry-{width}-enrol", f"/spoke/patients/{patient.id}/episodes/new"),
            (f"registry-{width}-billing", "/spoke/registry/billing?month=2027-02"),
            (f"registry-{width}-patient", f"/spoke/patients/{patient.id}"),
        ],
    )
    assert found == {}
