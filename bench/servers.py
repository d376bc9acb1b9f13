"""Server processes under test: `telehub serve` and the baseline app, each on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from bench.config import ACCESS_TOKEN_TTL, BASE_URL, POOL_MAX, POOL_MIN, SECRET_KEY

ROOT = Path(__file__).resolve().parent.parent
TELEHUB = str(Path(sys.executable).parent / "telehub")
HOST = "127.0.0.1"


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


@dataclass
class Server:
    """A server process on a loopback port, logging to a file."""

    name: str
    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://{HOST}:{self.port}"

    def wait_ready(self, path: str = "/readyz", seconds: float = 60) -> None:
        """Poll until `path` answers 200; fail early (with the log's tail) if the process died."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = self.log.read_text(errors="replace")[-2000:]
                raise RuntimeError(f"{self.name} exited with {self.proc.returncode}:\n{tail}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=2) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise TimeoutError(f"{self.name} did not answer {path} within {seconds} s")

    def stop(self) -> int:
        """SIGTERM, then wait (SIGKILL after 15 s); the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def _spawn(name: str, argv: list[str], env: dict[str, str], log: Path, port: int) -> Server:
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as sink:
        proc = subprocess.Popen(argv, env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT)
    return Server(name, proc, port, log)


def telehub_env(database_url: str, port: int) -> dict[str, str]:
    """The environment of a bench `telehub serve`: production defaults, the bench's key."""
    return {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEHUB_SECRET_KEY": SECRET_KEY,
        "TELEHUB_BASE_URL": BASE_URL,
        "TELEHUB_ACCESS_TOKEN_TTL": str(ACCESS_TOKEN_TTL),
        "TELEHUB_HOST": HOST,
        "TELEHUB_PORT": str(port),
        "TELEHUB_DB_POOL_MIN": str(POOL_MIN),
        "TELEHUB_DB_POOL_MAX": str(POOL_MAX),
        "TELEHUB_LOG_JSON": "true",
    }


def start_telehub(name: str, database_url: str, logs: Path) -> Server:
    """One `telehub serve` process (it migrates at start), with production defaults."""
    port = free_port()
    env = telehub_env(database_url, port)
    return _spawn(name, [TELEHUB, "serve"], env, logs / f"{name}.log", port)


def start_baseline(database_url: str, logs: Path) -> Server:
    """The bare aiohttp + asyncpg app, with a pool of telehub's size."""
    port = free_port()
    env = {
        **os.environ,
        "BENCH_DATABASE_URL": database_url,
        "BENCH_PORT": str(port),
        "BENCH_POOL_MIN": str(POOL_MIN),
        "BENCH_POOL_MAX": str(POOL_MAX),
    }
    argv = [sys.executable, "-m", "bench.baseline"]
    return _spawn("baseline", argv, env, logs / "baseline.log", port)
