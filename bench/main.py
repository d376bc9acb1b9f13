"""`python -m bench`: generate a network, start the servers, measure, print, write JSON."""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from bench import database, report, report_html, scale
from bench.config import FULL, SCALE_FULL, SCALE_QUICK, SCALE_SMOKE, SMOKE, ScaleSizes
from bench.machine import describe
from bench.run import SECTIONS, run, run_only
from telehub.logging import configure_logging

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument(
        "section", nargs="?", choices=("scale",), help="`scale`: only the cost curves"
    )
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a few seconds")
    parser.add_argument(
        "--quick", action="store_true", help="cost curves at smaller sizes (a few minutes)"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--html", type=Path, default=ROOT / "bench" / "report.html")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "bench-logs")
    parser.add_argument("--keep-db", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--only",
        choices=(*SECTIONS, "scale"),
        help="run one section on the seeded network, not all (scale: the cost curves)",
    )
    return parser


def _scale_sizes(args: argparse.Namespace) -> ScaleSizes:
    return SCALE_SMOKE if args.smoke else SCALE_QUICK if args.quick else SCALE_FULL


async def _curves(admin_url: str, data_dir: Path | None, args: argparse.Namespace) -> Any:
    machine = await describe(admin_url)
    made = await scale.curves(admin_url, data_dir, _scale_sizes(args), args.logs)
    return machine, made


def _write_curves(args: argparse.Namespace, machine: dict[str, Any], made: dict[str, Any]) -> None:
    """The curves into results.json (its `curves` key; the rest of the file kept) and
    report.html; the printed table."""
    try:
        results = json.loads(args.json.read_text())
    except (OSError, ValueError):
        results = {}
    if not isinstance(results, dict):
        results = {}
    results.setdefault("machine", machine)
    results["curves"] = {**made, "machine": machine}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    report_html.write(args.html, made, machine)
    print(scale.table(made))
    print(f"\ncost curves: {made['run_seconds']} s; in {args.json} and {args.html}")


def scale_main(args: argparse.Namespace) -> int:
    """`python -m bench scale`: the cost curves alone."""
    with database.server() as (admin_url, data_dir):
        machine, made = asyncio.run(_curves(admin_url, data_dir, args))
    _write_curves(args, machine, made)
    return 0 if made["all_checks_passed"] else 1


async def _measure(
    admin_url: str, data_dir: Path | None, args: argparse.Namespace
) -> dict[str, Any]:
    db = await database.create(admin_url, data_dir)
    try:
        sizes = SMOKE if args.smoke else FULL
        if args.only:
            return await run_only(args.only, db, sizes, args.logs)
        return await run(db, sizes, args.logs)
    finally:
        if not args.keep_db:
            await database.drop(db)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark; exit 1 if a correctness check failed (timings never fail it)."""
    args = _parser().parse_args(argv)
    configure_logging(json=False, level=logging.WARNING)  # telehub's own, when it migrates
    if args.section == "scale" or args.only == "scale":
        return scale_main(args)
    sizes = SMOKE if args.smoke else FULL
    began, started = time.perf_counter(), datetime.now(UTC)
    curves = None
    with database.server() as (admin_url, data_dir):
        results = asyncio.run(_measure(admin_url, data_dir, args))
        if not args.smoke and not args.only:  # `make bench`: the cost curves too
            curves = asyncio.run(_curves(admin_url, data_dir, args))
    rows, targets, checks = report.verdicts(results)
    results = {
        "mode": ("smoke" if args.smoke else "full") + (f", {args.only} only" if args.only else ""),
        "started_at": started.isoformat(),
        "run_seconds": round(time.perf_counter() - began, 1),
        "sizes": sizes.as_dict(),
        **results,
        "targets": targets,
        "checks": checks,
        "all_targets_met": all(t["met"] for t in targets),
        "all_checks_passed": all(c["met"] for c in checks),
        "other_processes_max_cores": report.noise(results),
    }
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(results, indent=2) + "\n")
    print(report.table(rows, results["machine"], results["other_processes_max_cores"]))
    print(f"\n{results['mode']} run: {results['run_seconds']} s; results in {args.json}")
    curves_passed = True
    if curves is not None:
        _write_curves(args, *curves)
        curves_passed = curves[1]["all_checks_passed"]
    return 0 if results["all_checks_passed"] and curves_passed else 1
