"""In a real browser: a hub coordinator reads the program dashboard, registers an API client
and retries a webhook delivery."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import asyncpg
import pytest
from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from scheduling import booking_store
from tests.e2e.conftest import screenshot
from tests.factories import (
    Clock,
    Network,
    SpokeUser,
    booking_in_store,
    econsult,
    live_client,
    signed_note,
)

pytestmark = pytest.mark.slow

CHARTS = (
    "Weekly capacity and booked hours",
    "E-consult turnaround by consultant",
    "Loop closure by spoke",
    "No-show rate by week",
)
SECTIONS = {
    "assessment": "Opioid use disorder, severe.",
    "recommendations": {
        "moud": "Buprenorphine.",
        "medications": "",
        "therapy": "",
        "referrals": "",
    },
    "follow_up": "Re-consult in 4 weeks.",
    "visit_recommended": False,
}


async def sign_in_as_coordinator(page: Page, network: Network) -> None:
    """Sign in through the form, with the keyboard."""
    email, password = await network.user("hub_coordinator")
    await page.goto("/coordinator")
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Program")


async def a_program(
    live: TestServer, network: Network, clock: Clock, pool: asyncpg.Pool
) -> SpokeUser:
    """A small network with bookings, outcomes, answered and acknowledged e-consults."""
    now = clock.now
    video = await network.service(duration_minutes=60)
    econsult_svc = await network.service(
        kind="econsult", duration_minutes=30, turnaround_hours=48, roles=["psychiatric_consultant"]
    )
    doctor = await network.consultant(
        [video, econsult_svc], hours=((0, time(9), time(13)), (2, time(9), time(17)))
    )
    await network.consultant([video], timezone="America/New_York", hours=((1, time(9), time(15)),))
    riverside, hilltop = await network.spoke(), await network.spoke()
    patients = {s.id: await network.patient(s) for s in (riverside, hilltop)}
    async with pool.acquire() as conn:
        for week in range(-11, 8):
            for hour in range(abs(week) % 4 + 1):
                start = datetime(2027, 3, 3, 17 + hour, tzinfo=UTC) + timedelta(weeks=week)
                booked = await booking_in_store(
                    conn,
                    service_id=video.id,
                    consultant_id=doctor.id,
                    spoke_id=riverside.id,
                    patient_id=patients[riverside.id].id,
                    start=start,
                )
                if week < 0:
                    outcome = "no_show" if (hour + week) % 3 == 0 else "completed"
                    await booking_store.set_outcome(conn, booked, outcome)
    hub = network.consultant_headers(doctor.id)
    async with live_client(live) as http:
        for day, spoke, answer, ack in (
            (8, riverside, 5, 3),
            (15, riverside, 9, 20),
            (10, hilltop, 30, None),
            (17, hilltop, 12, 40),
        ):
            clock.now = datetime(2027, 2, day, 14, tzinfo=UTC)
            asked = await econsult(
                http, spoke, patient_id=patients[spoke.id].id, service_id=econsult_svc.id
            )
            clock.now += timedelta(hours=answer)
            note = (await signed_note(http, hub, asked["id"], SECTIONS))["id"]
            if ack is not None:
                clock.now += timedelta(hours=ack)
                acked = await http.post(f"/api/v1/notes/{note}/acknowledge", headers=spoke.headers)
                assert acked.status == 200
    clock.now = now
    return riverside


async def test_a_coordinator_sees_the_program_dashboard_with_four_charts(
    page: Page, live: TestServer, network: Network, clock: Clock, pool: asyncpg.Pool
) -> None:
    await a_program(live, network, clock, pool)
    await sign_in_as_coordinator(page, network)

    for name in CHARTS:
        chart = page.get_by_role("img", name=name)
        await expect(chart).to_be_visible()
        assert (await chart.evaluate("e => e.tagName")).lower() == "svg"
        box = await chart.bounding_box()
        assert box is not None and box["width"] > 600  # drawn large enough to read at 1024 px
    table = page.get_by_role("table", name="Capacity and booked hours by week")
    await expect(table.get_by_role("row")).to_have_count(1 + 8)
    await expect(page.get_by_role("link", name="Program")).to_have_attribute("aria-current", "page")
    await screenshot(page, "coordinator-dashboard")

    await page.set_viewport_size({"width": 768, "height": 900})
    for name in CHARTS:
        box = await page.get_by_role("img", name=name).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= 768
    await screenshot(page, "coordinator-dashboard-768")


async def test_a_coordinator_registers_an_api_client_and_sees_its_secret_once(
    page: Page, network: Network
) -> None:
    spoke = await network.spoke()
    await sign_in_as_coordinator(page, network)
    await page.get_by_role("link", name="API clients").click()

    await page.get_by_role("button", name="Register client").click()
    await expect(page.get_by_role("alert")).to_contain_text("Name: is required")
    await page.get_by_label("Name").fill("Riverside EHR")
    await page.get_by_role("combobox", name="Kind").select_option("spoke")
    await page.get_by_role("combobox", name="Clinic").select_option(label=spoke.name)
    await page.get_by_role("button", name="Register client").click()

    created = page.get_by_role("status")
    await expect(created).to_contain_text("Riverside EHR is registered")
    await expect(created).to_contain_text("shown only this once")
    secret = await page.locator("#new-client-secret").inner_text()
    assert len(secret) >= 32
    await expect(page.get_by_role("button", name="Copy")).to_be_visible()
    await screenshot(page, "coordinator-clients")

    await page.get_by_role("link", name="API clients").click()
    await expect(page.get_by_role("row", name="Riverside EHR")).to_contain_text("active")
    assert secret not in await page.content()


async def test_a_coordinator_retries_a_pending_webhook_delivery(
    page: Page, live: TestServer, network: Network, clock: Clock, pool: asyncpg.Pool
) -> None:
    spoke = await a_program(live, network, clock, pool)
    async with pool.acquire() as conn:
        await conn.execute(
            """
            UPDATE outbox SET failed_at = now(), attempts = 9, last_status = 503,
                last_error = 'Service Unavailable'
            WHERE id = (SELECT min(id) FROM outbox)
            """
        )
        # A clinic with a webhook: one without has nothing to retry (its notes are in its inbox).
        await conn.execute(
            "UPDATE spokes SET webhook_url = 'http://127.0.0.1:9/hook', webhook_secret = 'whsec_t'"
            " WHERE id = (SELECT spoke_id FROM outbox ORDER BY id LIMIT 1)"
        )
    await sign_in_as_coordinator(page, network)
    await page.get_by_role("link", name="Deliveries").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Webhook deliveries")
    rows = page.get_by_role("table").get_by_role("row")
    await expect(rows).to_have_count(1 + 4)
    await screenshot(page, "coordinator-deliveries")

    await page.get_by_label("State").select_option("failed")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1 + 1)
    await expect(rows.nth(1)).to_contain_text("HTTP 503: Service Unavailable")
    await page.get_by_role("button", name="Retry delivery").click()
    await expect(page.get_by_role("status")).to_contain_text(f"for {spoke.name} will be sent again")
    # Back to the same filtered list, where it is no longer one of the failed.
    await expect(page.get_by_text("No deliveries failed.")).to_be_visible()
    assert "state=failed" in page.url


async def test_a_coordinator_fixes_a_consultant_form_at_tablet_width(
    page: Page, network: Network
) -> None:
    await network.service(name="Addiction psychiatry video visit")
    await page.set_viewport_size({"width": 768, "height": 1000})
    await sign_in_as_coordinator(page, network)
    await page.get_by_role("link", name="Consultants").click()

    await page.get_by_label("Name", exact=True).fill("Dr. Ada Ruiz")
    await page.get_by_label("Time zone").fill("Chicago")
    await page.get_by_role("checkbox", name="VT").check()
    await page.get_by_role("button", name="Add consultant").click()

    summary = page.get_by_role("alert")
    await expect(summary).to_be_focused()
    await expect(summary).to_contain_text("Time zone: must be an IANA time zone")
    await expect(page.get_by_label("Name", exact=True)).to_have_value("Dr. Ada Ruiz")
    await expect(page.get_by_role("checkbox", name="VT")).to_be_checked()
    await screenshot(page, "coordinator-consultant-error")

    await summary.get_by_role("link").click()
    await expect(page.get_by_label("Time zone")).to_be_focused()
    await page.keyboard.press("Control+a")
    await page.keyboard.type("America/Chicago")
    await page.get_by_role("checkbox", name="Addiction psychiatry video visit").check()
    await page.get_by_role("button", name="Add consultant").click()
    await expect(page.get_by_role("status")).to_have_text("Added Dr. Ada Ruiz.")
    row = page.get_by_role("row", name="Dr. Ada Ruiz")
    await expect(row).to_contain_text("America/Chicago")
    await expect(row).to_contain_text("Addiction psychiatry video visit")
