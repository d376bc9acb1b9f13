"""The e-consult form says the answer time in business time and previews the due time."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import asyncpg
import pytest
from aiohttp.test_utils import TestClient

from telehub.web import local_time
from tests.factories import Clock, Network
from tests.http.spoke_support import Clinic, econsult_form, multi


def preview(page: str) -> tuple[str, str]:
    """(due if sent now, due if urgent) as the form shows them."""
    found = re.search(r"it would be due <strong>([^<]+)</strong> \(if urgent, ([^)]+)\)", page)
    assert found is not None, page
    return found.group(1), found.group(2)


@pytest.mark.parametrize(
    ("now", "urgency"),
    [
        (datetime(2027, 3, 2, 19, 58, tzinfo=UTC), "routine"),  # Tuesday 14:58 in New York
        (datetime(2027, 3, 3, 0, 58, tzinfo=UTC), "routine"),  # Tuesday 19:58: after hours
        (datetime(2027, 3, 5, 20, 30, tzinfo=UTC), "urgent"),  # Friday 15:30
    ],
)
async def test_the_previewed_due_time_is_the_one_the_econsult_gets_when_sent_then(
    client: TestClient,
    clinic: Clinic,
    clock: Clock,
    conn: asyncpg.Connection,
    now: datetime,
    urgency: str,
) -> None:
    clock.now = now
    form = await (await client.get("/spoke/econsults/new")).text()
    routine_due, urgent_due = preview(form)

    sent = await client.post(
        "/spoke/econsults/new",
        data=[*multi(econsult_form(clinic, urgency=urgency)), ("csrf_token", clinic.csrf)],
        allow_redirects=False,
    )

    assert sent.status == 303, await sent.text()
    due_at = await conn.fetchval("SELECT due_at FROM econsults")
    shown = local_time(due_at, "America/New_York")
    assert shown == (urgent_due if urgency == "urgent" else routine_due)


async def test_a_48_hour_service_says_business_hours_and_the_days_they_come_to(
    client: TestClient, network: Network, clinic: Clinic, clock: Clock
) -> None:
    await network.service(
        kind="econsult",
        name="Two-day e-consult",
        duration_minutes=30,
        turnaround_hours=48,
        roles=["psychiatric_consultant"],
    )
    clock.now = datetime(2027, 3, 3, 0, 58, tzinfo=UTC)  # Tuesday 19:58 in New York

    page = await (await client.get("/spoke/econsults/new")).text()

    assert "48 h" not in page
    assert "Two-day e-consult: answered within 48 business hours, about 5 business days." in page
    assert "OUD e-consult: answered within 1 business day." not in page  # 8 h of a 9-hour day
    assert "OUD e-consult: answered within 8 business hours." in page
    assert "due <strong>Wed 10 Mar 2027, 11:00</strong>" in page  # the hub: 08:00 to 17:00
    assert "The hub's clock runs Mon to Fri, 08:00 to 17:00" in page


async def test_the_service_choice_is_described_by_its_due_time(
    client: TestClient, clinic: Clinic
) -> None:
    page = await (await client.get("/spoke/econsults/new")).text()

    select = page[page.index('<select id="f-service_id"') :]
    select = select[: select.index(">")]
    assert re.search(r'aria-describedby="[^"]*\bturnaround\b', select)
    assert 'id="turnaround"' in page
