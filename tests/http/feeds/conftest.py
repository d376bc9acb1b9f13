"""Fixtures of the calendar feed tests: ical.js, and a consultant's bookings from two clinics."""

from __future__ import annotations

import json
import shutil
import subprocess
from datetime import time
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import Network, booking, econsult
from tests.http.feeds.support import ICALJS_VERSION, ROOT, Scene, node_tool


@pytest.fixture(scope="session")
def icaljs() -> Path:
    """A Node script that parses a feed with ical.js (installed from npm on first use)."""
    home = ROOT / "var" / "icaljs"
    package = home / "node_modules" / "ical.js" / "package.json"
    if not package.exists() or json.loads(package.read_text())["version"] != ICALJS_VERSION:
        home.mkdir(parents=True, exist_ok=True)
        npm = node_tool("npm")
        subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(home),
                "--no-audit",
                "--no-fund",
                f"ical.js@{ICALJS_VERSION}",
            ],
            check=True,
            capture_output=True,
            timeout=300,
        )
    script = home / "parse_ics.mjs"
    shutil.copyfile(ROOT / "tests" / "tools" / "parse_ics.mjs", script)
    return script


@pytest.fixture
async def scene(client: TestClient, network: Network) -> Scene:
    """Bookings of every kind for one consultant, from two clinics, with patient names."""
    video = await network.service(duration_minutes=60, name="MOUD video visit")
    review = await network.service(kind="case_review", duration_minutes=30, name="Case review")
    econsult_service = await network.service(
        kind="econsult",
        duration_minutes=30,
        turnaround_hours=48,
        name="E-consult",
        roles=["psychiatric_consultant"],
    )
    days = tuple((d, time(9), time(17)) for d in range(5))
    consultant = await network.consultant([video, review, econsult_service], hours=days)
    s = Scene()
    s.consultant_id = consultant.id
    s.clinic, s.other = await network.spoke(), await network.spoke()
    s.names, s.booking_ids = [], []
    for spoke, family, day in ((s.clinic, "Okonkwo-Ramirez", 8), (s.other, "Vandersloot", 9)):
        patient = await network.patient(spoke, family_name=family)
        s.names += [patient.given_name, patient.family_name, patient.mrn]
        for service, hour in ((video, 9), (review, 11)):
            booked = await booking(
                client,
                spoke,
                service_id=service.id,
                consultant_id=consultant.id,
                patient_id=patient.id,
                reason=f"{family} relapse",
                start=f"2027-03-{day:02d}T{hour:02d}:00:00-08:00",
            )
            s.booking_ids.append(booked["id"])
        asked = await econsult(
            client,
            spoke,
            patient_id=patient.id,
            service_id=econsult_service.id,
            question=f"{family}: dose?",
            review={"consultant_id": consultant.id, "start": f"2027-03-{day:02d}T14:00:00-08:00"},
        )
        s.booking_ids.append(asked["booking_id"])
    moved = await client.post(
        f"/api/v1/bookings/{s.booking_ids[0]}/reschedule",
        json={"start": "2027-03-08T10:00:00-08:00"},
        headers=s.clinic.headers,
    )
    assert moved.status == 200
    cancelled = await client.post(
        f"/api/v1/bookings/{s.booking_ids[1]}/cancel",
        json={"reason": "Okonkwo-Ramirez admitted"},
        headers=s.clinic.headers,
    )
    assert cancelled.status == 200
    return s
