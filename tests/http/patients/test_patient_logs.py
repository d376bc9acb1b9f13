"""Searching for a patient and refusing a duplicate log no name, MRN or birth date."""

from __future__ import annotations

import io

from aiohttp.test_utils import TestClient

from tests.http.patients.support import add, added
from tests.http.spoke_support import Clinic
from tests.log_capture import log_lines_fixture, logged  # noqa: F401 (the fixture log_lines)


async def test_searches_and_duplicates_log_routes_not_what_was_typed(
    client: TestClient, clinic: Clinic, log_lines: io.StringIO
) -> None:
    await added(client, clinic.spoke, given_name="Philomena", family_name="Quackenbush")
    for q in ("quackenbush", "ab-12 3", "1965-01-21", "1965-02-30"):
        await client.get("/api/v1/patients", params={"q": q}, headers=clinic.spoke.headers)
    await client.get("/spoke/book/patients", params={"q": "philomena"})
    await client.get("/spoke/book", params={"q": "Quackenbush"})
    await add(client, clinic.spoke, given_name="Philomena", family_name="Quackenbush", mrn="X")

    lines = logged(log_lines)
    requests = [line for line in lines if line["event"] == "request"]
    assert [r["status"] for r in requests][-7:] == [200, 200, 200, 422, 200, 200, 409]
    text = log_lines.getvalue().lower()
    for secret in ("philomena", "quackenbush", "ab123", "ab-12", "1965-01-21", "1965-02-30"):
        assert secret not in text
