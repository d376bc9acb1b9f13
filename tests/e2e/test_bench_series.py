"""The benchmark's series section at smoke sizes: booking one series of 12 weekly sessions
next to a single booking, both timed in the same run, and every session of every 201 stored.
Correctness only, never a timing."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_a_series_and_a_single_booking_are_timed_side_by_side(bench_smoke: tuple[str, Any]) -> None:
    printed, results = bench_smoke
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
    bench_smoke: tuple[str, Any],
) -> None:
    _, results = bench_smoke
    section, made = results["series"], results["sizes"]["series_samples"] + 1
    assert section["booked"] == {"in_series": 12 * made, "single": made, "series": made}
    assert section["overlaps"]["with_buffers"] == 0
    check = next(c for c in results["checks"] if c["measure"].startswith("series:"))
    assert check["met"] is True and results["all_checks_passed"] is True
