"""Facts about the machine and the PostgreSQL a run measured, and CPU use while it ran."""

from __future__ import annotations

import asyncio
import os
import platform
import sys
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import psutil

PG_SETTINGS = (
    "shared_buffers",
    "max_connections",
    "fsync",
    "synchronous_commit",
    "wal_level",
    "work_mem",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


async def describe(database_url: str) -> dict[str, Any]:
    """CPU, cores, memory, OS, Python and library versions, PostgreSQL version and settings."""
    conn = await asyncpg.connect(database_url)
    try:
        version = await conn.fetchval("SHOW server_version")
        settings = {name: await conn.fetchval(f"SHOW {name}") for name in PG_SETTINGS}
    finally:
        await conn.close()
    return {
        "cpu_model": _cpu_model(),
        "cores": os.cpu_count(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "aiohttp": aiohttp.__version__,
        "asyncpg": asyncpg.__version__,
        "postgresql": version,
        "postgresql_settings": settings,
    }


def rss_mb(pid: int) -> float | None:
    """A process's resident memory in MiB (None once it has exited)."""
    try:
        return round(float(psutil.Process(pid).memory_info().rss) / 2**20, 1)
    except psutil.Error:
        return None


def _tree(pid: int) -> list[psutil.Process]:
    try:
        root = psutil.Process(pid)
        return [root, *root.children(recursive=True)]
    except psutil.Error:
        return []


def _seconds(processes: Iterable[psutil.Process]) -> dict[int, float]:
    spent = {}
    for p in processes:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        spent[p.pid] = t.user + t.system
    return spent


def _busy(t: Any) -> float:
    return float(t.user + t.nice + t.system + t.irq + t.softirq + getattr(t, "steal", 0.0))


@dataclass
class CpuMeter:
    """Cores used by each role (servers, postgres, load generator) over one measurement.

    `roles` maps a role to process ids; a role named in `trees` counts every descendant too
    (PostgreSQL's backends). "other" is whatever else kept the machine busy meanwhile.
    """

    roles: dict[str, list[int]]
    trees: frozenset[str] = frozenset({"postgres"})
    _t0: float | None = None

    def _read(self, role: str) -> dict[int, float]:
        found: dict[int, float] = {}
        for pid in self.roles[role]:
            try:
                processes = _tree(pid) if role in self.trees else [psutil.Process(pid)]
            except psutil.Error:
                continue
            found.update(_seconds(processes))
        return found

    def start(self) -> None:
        """Take the first reading."""
        self._t0 = time.perf_counter()
        self._machine0 = _busy(psutil.cpu_times())
        self._before = {role: self._read(role) for role in self.roles}

    def stop(self) -> dict[str, float]:
        """Cores used per role since start() (1.0 = one core busy all the time)."""
        if self._t0 is None:
            return {}  # never started: the measured window was empty
        elapsed = time.perf_counter() - self._t0
        used: dict[str, float] = {}
        for role in self.roles:
            before, after = self._before[role], self._read(role)
            # a process that started in between counts from zero; one that ended is lost
            spent = sum(after[pid] - before.get(pid, 0.0) for pid in after)
            used[role] = round(spent / elapsed, 2)
        used["machine"] = round((_busy(psutil.cpu_times()) - self._machine0) / elapsed, 2)
        # Anything else that ran meanwhile: the machine may be shared.
        used["other"] = round(max(0.0, used["machine"] - sum(used[r] for r in self.roles)), 2)
        return used


async def wait_quiet(max_wait_s: float, limit: float = 0.25, sample_s: float = 0.5) -> float | None:
    """Wait (at most max_wait_s) until the machine is nearly idle; the cores busy at the end.

    Called between measurements, when the bench's own processes are idle, so whatever keeps
    the machine busy belongs to someone else. A shared machine is a noisy one.
    """
    if max_wait_s <= 0:
        return None  # not asked to wait (smoke runs)
    deadline = time.perf_counter() + max_wait_s
    while True:
        before = _busy(psutil.cpu_times())
        await asyncio.sleep(sample_s)
        busy = (_busy(psutil.cpu_times()) - before) / sample_s
        if busy <= limit or time.perf_counter() >= deadline:
            return round(busy, 2)
