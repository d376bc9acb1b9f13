"""The benchmark's series section at smoke sizes: booking one series of 12 weekly sessions
next to a single booking, both timed in the same run, and every session of every 201 stored.
Correctness only, never a timing."""

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
    out = tmp_path_factory.mktemp("bench-series")
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


def test_a_series_and_a_single_booking_are_timed_side_by_side(smoke: tuple[str, Any]) -> None:
    printed, results = smoke
    section, samples = results["series"], results["sizes"]["series_samples"]
    assert section["sessions_per_series"] == 12
    for key in ("series", "single"):
        latency = section[key]["latency"]
        assert latency["count"] == samples
        assert 0 < latency["p50_ms"] <= latency["p99_ms"] <= latency["max_ms"]
        assert section[key]["statuses"] == {"201": samples + 1}  # one untimed warm-up pair
    for row in (
        "series of 12 weekly sessions (one at a time), p50",
        "series of 12 weekly sessions (one at a time), p99",
        "single booking (one at a time), p50",
        "single booking (one at a time), p99",
    ):
        assert row in printed


def test_every_session_of_every_booked_series_is_stored_without_overlap(
    smoke: tuple[str, Any],
) -> None:
    _, results = smoke
    section, made = results["series"], results["sizes"]["series_samples"] + 1
    assert section["booked"] == {"in_series": 12 * made, "single": made, "series": made}
    assert section["overlaps"]["with_buffers"] == 0
    check = next(c for c in results["checks"] if c["measure"].startswith("series:"))
    assert check["met"] is True and results["all_checks_passed"] is True
