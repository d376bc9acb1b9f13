"""The benchmark's 'enrol in a group' section at smoke sizes: enrolments timed under the same
closed loop as single bookings and printed next to them, every 201 with a seat in each of the
12 occurrences, no occurrence over capacity. Correctness only, never a timing."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def smoke(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any]:
    """`python -m bench --smoke` against the test PostgreSQL: its output and results."""
    out = tmp_path_factory.mktemp("bench-groups")
    results = out / "results.json"
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--smoke", "--json", str(results), "--logs", str(out)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(results.read_text())


def test_enrolling_in_a_group_is_measured_next_to_single_booking(smoke: tuple[str, Any]) -> None:
    printed, results = smoke
    section = results["groups"]
    assert section["occurrences_per_group"] == 12
    enrol = section["enrol"]
    assert enrol["enrolments_per_s"] > 0
    assert 0 < enrol["latency"]["p50_ms"] <= enrol["latency"]["p99_ms"]
    assert enrol["concurrency"] == section["single"]["concurrency"]
    assert set(section["answers"]) == {"201"}
    assert "enrol in a group (12 weekly occurrences), enrolments/s" in printed
    assert "single booking, bookings/s" in printed
    assert "enrol in a group, p99" in printed


def test_every_enrolment_stored_a_seat_per_occurrence_within_capacity(
    smoke: tuple[str, Any],
) -> None:
    _, results = smoke
    section = results["groups"]
    made = section["answers"]["201"]
    assert section["stored"] == {"enrolments": made, "seats": 12 * made, "over_capacity": 0}
    check = next(c for c in results["checks"] if c["measure"].startswith("group seats:"))
    assert check["met"] is True
