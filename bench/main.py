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

from bench import database, report
from bench.config import FULL, SMOKE
from bench.run import SECTIONS, run, run_only
from telehub.logging import configure_logging

ROOT = Path(__file__).resolve().parent.parent


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: a few seconds")
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "results.json")
    parser.add_argument("--logs", type=Path, default=ROOT / "var" / "bench-logs")
    parser.add_argument("--keep-db", action="store_true", help="keep the generated database")
    parser.add_argument(
        "--only", choices=SECTIONS, help="run one section on the seeded network, not all"
    )
    return parser


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
    sizes = SMOKE if args.smoke else FULL
    began, started = time.perf_counter(), datetime.now(UTC)
    with database.server() as (admin_url, data_dir):
        results = asyncio.run(_measure(admin_url, data_dir, args))
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
    return 0 if results["all_checks_passed"] else 1
