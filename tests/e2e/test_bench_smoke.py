"""A smoke run of the benchmark at tiny sizes, so `make bench` never rots.

It asserts that every section ran and reported numbers, and the correctness checks (no
overlapping bookings, exactly as many winners as contended slots): never a timing.
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def _latency(figures: dict[str, Any]) -> None:
    assert figures["count"] > 0
    assert all(_number(figures[k]) for k in ("p50_ms", "p99_ms", "max_ms"))
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_it_prints_a_table_with_a_verdict_for_each_target(bench_smoke: tuple[str, Any]) -> None:
    printed, results = bench_smoke
    assert "measure" in printed and "target" in printed
    for target in results["targets"]:
        assert target["measure"] in printed
        assert isinstance(target["met"], bool) and _number(target["value"])
    assert {t["key"] for t in results["targets"]} == {
        "search_7_p99_ms",
        "search_28_p99_ms",
        "booking_ratio",
        "registry_p99_ms",
    }


def test_the_registry_caseload_lists_exactly_the_clinics_open_episodes(
    bench_smoke: tuple[str, Any],
) -> None:
    _, results = bench_smoke
    registry = results["registry"]
    assert registry["statuses"] == {"200": registry["answers"]}
    assert registry["answers_listing_exactly_the_open_episodes"] == registry["answers"]
    assert registry["episodes"]["open_episodes"] > 0 and _number(registry["latency"]["p99_ms"])


def test_it_records_the_machine(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    machine = results["machine"]
    assert machine["cpu_model"] and machine["cores"] >= 1 and machine["memory_gb"] > 0
    assert machine["python"] and machine["postgresql"]


def test_slot_search_reports_both_windows(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    for days in (7, 28):
        search = results["slot_search"][f"{days}_days"]
        assert search["days"] == days
        _latency(search["latency"])
        assert search["slots_per_answer"]["min"] > 0


def test_fhir_slot_search_lists_the_json_searchs_slots_with_its_ratio(
    bench_smoke: tuple[str, Any],
) -> None:
    printed, results = bench_smoke
    fhir = results["fhir_slot_search"]
    assert fhir["days"] == 7 and fhir["consultants"] == results["sizes"]["consultants"]
    _latency(fhir["latency"])
    _latency(fhir["first_page_latency"])
    assert fhir["slots_per_search"]["min"] > 0 and fhir["pages_per_search"]["min"] >= 1
    assert fhir["windows_checked"] > 0
    assert fhir["windows_matching_json"] == fhir["windows_checked"]
    assert fhir["duplicate_slots"] == 0
    json_p50 = results["slot_search"]["7_days"]["latency"]["p50_ms"]
    assert fhir["ratio_to_json"]["p50"] == round(fhir["latency"]["p50_ms"] / json_p50, 2)
    assert "FHIR Slot search, 7 days, p50" in printed and "FHIR ÷ JSON" in printed


def test_booking_throughput_has_both_sides_and_their_ratio(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    throughput = results["booking_throughput"]
    telehub, baseline = throughput["telehub"], throughput["baseline"]
    assert telehub["bookings_per_s"] > 0 and set(telehub["statuses"]) == {"201"}
    assert baseline["requests_per_s"] > 0 and set(baseline["statuses"]) == {"201"}
    _latency(telehub["latency"])
    _latency(baseline["latency"])
    assert _number(throughput["ratio"]) and throughput["ratio"] > 0


def test_no_two_active_bookings_of_a_consultant_overlap(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    integrity = results["integrity"]
    assert integrity["overlapping_pairs"] == 0
    assert integrity["overlapping_pairs_with_buffers"] == 0
    assert all(c["with_buffers"] == 0 for c in integrity["checked_after"].values())
    assert integrity["answers_201"] > 0
    assert integrity["bookings_created_via_api"] == integrity["answers_201"]
    assert results["all_checks_passed"] is True


def test_contended_booking_has_exactly_one_winner_per_slot(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    contended, sizes = results["contended"], results["sizes"]
    expected = sizes["contended_slots"] * sizes["contended_rounds"]
    assert contended["expected_successes"] == expected
    assert contended["successes"] == expected
    for statuses in contended["statuses_per_round"]:
        assert statuses == {
            "201": sizes["contended_slots"],
            "409": sizes["contended_clients"] - sizes["contended_slots"],
        }
    _latency(contended["latency"])


def test_feeds_report_cold_changed_and_not_modified(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    feeds = results["feeds"]
    assert feeds["events"] == results["sizes"]["feed_events"]
    for key in ("cold_render", "after_one_change", "not_modified_304"):
        _latency(feeds[key])
    every, sizes = feeds["every_feed_once"], results["sizes"]
    assert every["feeds"] == sizes["consultants"] + sizes["spokes"]
    assert every["events"] > 0
    _latency(every["render"])


def test_scale_out_compares_one_process_with_two(bench_smoke: tuple[str, Any]) -> None:
    _, results = bench_smoke
    scale = results["scale_out"]
    assert scale["one_process"]["server_processes"] == 1
    assert scale["two_processes"]["server_processes"] == 2
    assert scale["one_process"]["bookings_per_s"] > 0
    assert scale["two_processes"]["bookings_per_s"] > 0
    assert _number(scale["speedup"])


def test_the_bench_servers_accept_the_tokens_the_bench_mints() -> None:
    from bench.network import bench_settings
    from bench.servers import telehub_env
    from telehub.settings import Settings

    minted = bench_settings("postgresql://bench@127.0.0.1/bench").access_token_ttl
    served = Settings.from_env(telehub_env("postgresql://bench@127.0.0.1/bench", 8123))

    # A server refuses a token that lives longer than the tokens it would issue itself.
    assert served.access_token_ttl >= minted


def test_it_reports_each_servers_memory_before_and_after(bench_smoke: tuple[str, Any]) -> None:
    printed, results = bench_smoke
    memory = results["server_memory_mb"]
    assert list(memory["telehub-1"]) == ["ready", "after_search", "after_feeds", "end"]
    assert list(memory["telehub-2"]) == ["ready", "end"]
    assert all(_number(v) and v > 0 for seen in memory.values() for v in seen.values())
    assert "telehub-1 RSS MiB" in printed


def test_only_search_runs_the_json_and_fhir_searches_alone(admin_url: str, tmp_path: Path) -> None:
    results = tmp_path / "results.json"
    command = ["-m", "bench", "--smoke", "--only", "search", "--json", str(results)]
    done = subprocess.run(
        [sys.executable, *command, "--logs", str(tmp_path)],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert done.returncode == 0, done.stdout + done.stderr
    answer = json.loads(results.read_text())
    assert answer["mode"] == "smoke, search only"
    assert {t["key"] for t in answer["targets"]} == {"search_7_p99_ms", "search_28_p99_ms"}
    assert [c["measure"] for c in answer["checks"]] == [
        "FHIR Slot search = JSON slot search (windows)"
    ]
    assert answer["all_checks_passed"] is True
    assert "booking_throughput" not in answer and "registry" not in answer
    assert "FHIR ÷ JSON slot search" in done.stdout
