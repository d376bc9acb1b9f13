"""What the registry page tests share: a clinic with a care manager signed in, episodes made
through the domain, and readers of the pages."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient

from care.store import Episode
from hub.store import Consultant
from spokes.store import Patient
from telehub.users import User
from tests.factories import Network, SpokeUser, page_csrf, sign_in
from tests.factories import care as cf

PASSWORD = "correct horse battery staple"
TODAY = date(2027, 3, 1)  # the clock's Monday 1 March 2027 in New York


@dataclass
class CareDesk:
    """A New York clinic with its care manager signed in, a psychiatric consultant, and one
    patient (not enrolled yet)."""

    spoke: SpokeUser
    manager: User
    consultant: Consultant
    patient: Patient
    csrf: str


async def care_desk(client: TestClient, network: Network) -> CareDesk:
    """The clinic, its care manager signed in through the real form."""
    clinic = await cf.care_clinic(network)
    patient = await network.patient(clinic.spoke, family_name="Quimby")
    assert (await sign_in(client, clinic.care_manager.email, PASSWORD)).status == 303
    csrf = await page_csrf(client, "/spoke/registry")
    return CareDesk(clinic.spoke, clinic.care_manager, clinic.consultant, patient, csrf)


async def episode(
    conn: asyncpg.Connection,
    desk: CareDesk,
    now: datetime,
    *,
    patient: Patient | None = None,
    started_on: date = date(2027, 1, 4),
    program: str = "collaborative_care",
) -> Episode:
    """An open episode of the desk's patient (or another of its patients)."""
    return await cf.enrol(
        conn,
        desk.spoke,
        (patient or desk.patient).id,
        care_manager_id=desk.manager.id,
        consultant_id=desk.consultant.id,
        started_on=started_on,
        now=now,
        program=program,
    )


async def post(client: TestClient, path: str, data: dict[str, Any], csrf: str) -> ClientResponse:
    """A form post from a signed-in page, not following the redirect."""
    return await client.post(path, data={**data, "csrf_token": csrf}, allow_redirects=False)


def phq9_form(answers: list[int], on: str = "2027-03-01") -> dict[str, str]:
    """The episode page's PHQ-9 form as a browser sends it."""
    return {"phq9.measured_on": on, **{f"phq9.items.{i}": str(a) for i, a in enumerate(answers)}}


def error_at(html: str, input_id: str) -> str:
    """The error shown at a form's field (or fieldset) holding the input with this id."""
    at = html.index(f'id="{input_id}"')
    start = max(html.rfind('<div class="field', 0, at), html.rfind("<fieldset", 0, at + 1))
    found = re.search(r'<p class="error"[^>]*>([^<]*)</p>', html[start : start + 3000])
    assert found, f"no error at {input_id}"
    return found.group(1)


def summary(html: str) -> list[str]:
    """The error summary's lines."""
    box = html.split('<div class="error-summary"', 1)[1].split("</div>", 1)[0]
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<a [^>]*>([^<]*)</a>", box)]


async def count(conn: asyncpg.Connection, table: str) -> int:
    """How many rows a registry table holds."""
    assert table in {"episodes", "care_measures", "care_contacts"}
    n: int = await conn.fetchval(f"SELECT count(*) FROM {table}")
    return n
