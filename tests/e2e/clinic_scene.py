"""A clinic that looks like a busy one: long names, several bookings, an e-consult with a thread
and a signed note. The phone-width and accessibility checks walk its pages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import time

from aiohttp.test_utils import TestServer
from playwright.async_api import Page, expect

from tests.factories import Network, SpokeUser, booking, econsult, live_client, signed_note

LONG_CONSULTANT = "Dr. Maya Okafor-Vandenberghe-Lindqvist"
LONG_FAMILY = "Okonkwo-Ramirez de la Fuente-Vandersloot"


@dataclass
class ClinicScene:
    """What a test needs to reach every page of the clinic, the hub and the coordinator."""

    spoke: SpokeUser
    consultant_id: int
    booking_id: str
    econsult_id: str
    note_id: str


async def busy_clinic(network: Network, live: TestServer) -> ClinicScene:
    """Two consultants (one with a very long name), patients with long names, five bookings in
    the week of 1 March 2027 and an e-consult answered with a signed note."""
    video = await network.service(name="MOUD and chronic pain video visit", duration_minutes=60)
    review = await network.service(
        kind="case_review", name="Interdisciplinary case review", duration_minutes=30
    )
    econsult_service = await network.service(
        kind="econsult", name="OUD e-consult", duration_minutes=30, turnaround_hours=48
    )
    days = tuple((d, time(8), time(17)) for d in range(5))
    consultant = await network.consultant([video, review, econsult_service], hours=days)
    other = await network.consultant([video, review], hours=days, timezone="America/New_York")
    async with network.pool.acquire() as conn:
        await conn.execute(
            "UPDATE consultants SET name = $1 WHERE id = $2", LONG_CONSULTANT, consultant.id
        )
    spoke = await network.spoke()
    patients = [
        await network.patient(spoke, family_name=LONG_FAMILY),
        await network.patient(spoke, family_name="Quimby"),
        await network.patient(spoke, family_name="Nakamura-Whitfield"),
    ]
    sections = {
        "assessment": "Severe opioid use disorder; chronic low back pain.",
        "recommendations": {
            "moud": "Buprenorphine/naloxone 16 mg daily, split dosing for pain.",
            "medications": "Stop tramadol.",
            "therapy": "Weekly CBT for chronic pain.",
            "referrals": "Physical therapy.",
        },
        "follow_up": "Re-consult in 4 weeks.",
        "visit_recommended": True,
    }
    booking_ids = []
    async with live_client(live) as http:
        for n, (day, hour, who) in enumerate(
            ((3, 9, consultant), (3, 11, other), (4, 10, consultant), (5, 13, other), (5, 9, other))
        ):
            booked = await booking(
                http,
                spoke,
                service_id=(video if n % 2 == 0 else review).id,
                consultant_id=who.id,
                patient_id=patients[n % 3].id,
                reason="Buprenorphine induction follow-up after an emergency department visit",
                start=f"2027-03-{day:02d}T{hour:02d}:00:00-08:00",
            )
            booking_ids.append(booked["id"])
        asked = await econsult(
            http,
            spoke,
            patient_id=patients[0].id,
            service_id=econsult_service.id,
            referring_clinician="Dr. Lena Park-Abernathy, MD, MPH",
            question="Induction with ongoing fentanyl use and chronic low back pain: "
            "low-dose buprenorphine start, or a standard induction after withdrawal?",
        )
        hub = network.consultant_headers(consultant.id)
        note = await signed_note(http, hub, asked["id"], sections)
    return ClinicScene(spoke, consultant.id, booking_ids[0], asked["id"], note["id"])


async def sign_in(page: Page, email: str, password: str, path: str) -> None:
    """Open a page, sign in on the form it sends us to, and land back on the page (the `page`
    fixture answers the code step)."""
    await page.goto(path)
    await page.get_by_label("Email").fill(email)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()
    await page.wait_for_url(lambda url: "/signin/" in url or "/signin" not in url)
    # An assertion on a locator lets the page's code handler answer the code step.
    await expect(page.locator("form[data-signin-step=code]")).to_have_count(0)
    await page.wait_for_url(f"**{path}")


async def scheduler_pages(page: Page, scene: ClinicScene) -> list[str]:
    """Every page a clinic scheduler has, with the book page reached from the week grid."""
    await page.goto("/spoke/find")
    book = await page.locator(".slot a").first.get_attribute("href")
    assert book, "the week grid offers no time to book"
    return [
        "/spoke",
        "/spoke/find",
        book,
        f"/spoke/bookings/{scene.booking_id}",
        "/spoke/econsults",
        "/spoke/econsults/new",
        f"/spoke/econsults/{scene.econsult_id}",
        "/spoke/inbox",
        f"/spoke/notes/{scene.note_id}",
        f"/spoke/notes/{scene.note_id}/print",
        "/spoke/patients/new",
    ]


def consultant_pages(scene: ClinicScene) -> list[str]:
    """Every page the consultant of the scene has."""
    return [
        "/hub",
        "/hub?week=2027-03-08",
        "/hub/worklist",
        "/hub/availability",
        "/hub/feed",
        f"/hub/econsults/{scene.econsult_id}",
        f"/hub/bookings/{scene.booking_id}/note",
    ]


def coordinator_pages(scene: ClinicScene) -> list[str]:
    """Every page a hub coordinator has."""
    return [
        "/coordinator",
        "/coordinator/consultants",
        "/coordinator/spokes",
        f"/coordinator/spokes/{scene.spoke.id}",
        "/coordinator/services",
        "/coordinator/clients",
        "/coordinator/deliveries",
    ]
