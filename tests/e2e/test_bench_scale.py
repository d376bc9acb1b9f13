"""`python -m bench scale --smoke`: the cost curves run at tiny sizes, so they never rot.

Checks the shape of results.json's `curves` and report.html (one SVG chart per curve, its
numbers in a table) and the curves' correctness facts; never a timing.
"""

from __future__ import annotations

import itertools
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bench.config import SCALE_SMOKE
from bench.report_html import render
from bench.scale import CURVES, growth

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
SIZES = {
    "slot_search": ("consultants", SCALE_SMOKE.search_consultants),
    "booking": ("existing_bookings", SCALE_SMOKE.existing_bookings),
    "feed": ("events", SCALE_SMOKE.feed_events),
    "registry": ("episodes", SCALE_SMOKE.registry_episodes),
    "slot_search_limit": ("days", SCALE_SMOKE.limit_days),
    "outbox_drain": ("processes", SCALE_SMOKE.drain_processes),
}


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


@pytest.fixture(scope="module")
def scale_run(admin_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Any, str]:
    """What it printed, results.json (an earlier key kept), report.html."""
    out = tmp_path_factory.mktemp("scale")
    results, html = out / "results.json", out / "report.html"
    results.write_text(json.dumps({"earlier": 1}))
    done = subprocess.run(
        [
            *(sys.executable, "-m", "bench", "scale", "--smoke"),
            *("--json", str(results), "--html", str(html), "--logs", str(out)),
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": admin_url},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout, json.loads(results.read_text()), html.read_text()


def test_each_curve_has_a_point_per_size_and_growth_factors(
    scale_run: tuple[str, Any, str],
) -> None:
    printed, results, _ = scale_run
    assert results["earlier"] == 1  # the rest of results.json is kept
    curves = results["curves"]
    assert curves["machine"]["cores"] >= 1
    for key, (size, sizes) in SIZES.items():
        curve = curves[key]
        assert curve["size"] == size
        assert [p[size] for p in curve["points"]] == list(sizes)
        for series in curve["series"]:
            values = [p[series] for p in curve["points"]]
            assert all(_number(v) and v >= 0 for v in values)
            # CPU times tick every 10 ms: a few tiny searches' share may round to 0, and
            # growth leaves out a step from or to 0.
            assert "cpu" in series or all(v > 0 for v in values)
            sized = zip(sizes, values, strict=True)
            steps = [(a, b) for (a, va), (b, vb) in itertools.pairwise(sized) if va and vb]
            assert [(s["from"], s["to"]) for s in curve["growth"][series]] == steps
        assert curve["title"] in printed


def test_the_curves_measure_what_they_say(scale_run: tuple[str, Any, str]) -> None:
    _, results, _ = scale_run
    curves = results["curves"]
    booking = curves["booking"]
    for point in booking["points"]:
        assert set(point["statuses"]) == {"201"} and point["statuses"]["201"] > 0
    assert all(c["periods"] == 0 and c["with_buffers"] == 0 for c in booking["overlaps"].values())
    assert [p["events_rendered"] for p in curves["feed"]["points"]] == list(SCALE_SMOKE.feed_events)
    assert all(p["exact_answers"] for p in curves["registry"]["points"])
    assert [p["slots_per_answer_mean"] > 0 for p in curves["slot_search"]["points"]] == [True] * 3
    booked = curves["booking"]
    assert booked["rows_created"] == booked["answers_201"] > 0
    for point in curves["slot_search_limit"]["points"]:
        assert point["first_n_exact"] and point["windows_compared"] > 0
        assert point["slots_per_answer_max"] == SCALE_SMOKE.limit
    for point in curves["outbox_drain"]["points"]:
        assert point["exactly_once"] and point["received"] == SCALE_SMOKE.drain_events
        assert point["lost"] == point["delivered_twice"] == point["misdirected"] == 0
    assert curves["all_checks_passed"] and all(curves["checks"].values())
    assert len(curves["checks"]) == 6


def test_the_report_has_one_svg_chart_and_table_per_curve(scale_run: tuple[str, Any, str]) -> None:
    _, results, html = scale_run
    assert html.count("<svg") == len(CURVES) and html.count("<table") == len(CURVES)
    external = html.replace('xmlns="http://www.w3.org/2000/svg"', "")
    assert "<script" not in html and "<link" not in html and "://" not in external
    for key in CURVES:
        assert f'<section id="{key}">' in html
        for point in results["curves"][key]["points"]:
            assert f"<td>{point[results['curves'][key]['size']]:,}</td>" in html


def test_growth_compares_consecutive_sizes() -> None:
    points = [{"n": 10, "ms": 2.0}, {"n": 100, "ms": 4.0}, {"n": 1000, "ms": 40.0}]
    assert growth(points, "n", "ms") == [
        {"from": 10, "to": 100, "size_factor": 10.0, "figure_factor": 2.0},
        {"from": 100, "to": 1000, "size_factor": 10.0, "figure_factor": 10.0},
    ]


def test_a_curve_renders_as_a_chart_with_a_marker_per_point() -> None:
    curve = {
        "title": "Registry caseload of a clinic",
        "size": "episodes",
        "unit": "ms",
        "series": ["p50_ms"],
        "points": [{"episodes": 100, "p50_ms": 3.0}, {"episodes": 2000, "p50_ms": 9.5}],
        "growth": {"p50_ms": []},
    }
    page = render({"registry": curve})
    assert page.count("<svg") == 1 and page.count("<circle") == 2
    assert "p50_ms: 9.5 ms" in page and "<td>2,000</td>" in page
