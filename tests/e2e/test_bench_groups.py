"""The benchmark's 'enrol in a group' section at smoke sizes: enrolments timed under the same
closed loop as single bookings and printed next to them, every 201 with a seat in each of the
12 occurrences, no occurrence over capacity. Correctness only, never a timing."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def test_enrolling_in_a_group_is_measured_next_to_single_booking(
    bench_smoke: tuple[str, Any],
) -> None:
    printed, results = bench_smoke
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
    bench_smoke: tuple[str, Any],
) -> None:
    _, results = bench_smoke
    section = results["groups"]
    made = section["answers"]["201"]
    assert section["stored"] == {"enrolments": made, "seats": 12 * made, "over_capacity": 0}
    check = next(c for c in results["checks"] if c["measure"].startswith("group seats:"))
    assert check["met"] is True
