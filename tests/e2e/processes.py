"""Start real telehub server processes for end-to-end tests."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from telehub.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TELEHUB = str(Path(sys.executable).parent / "telehub")


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_ready(url: str, proc: subprocess.Popen[bytes], seconds: float = 60) -> None:
    """Poll `url` until it answers 200, failing early if the process died."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    raise TimeoutError(f"{url} did not answer within {seconds} s")


@dataclass
class Server:
    """A `telehub serve` process on a loopback port, logging to a file."""

    proc: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        """Its base URL."""
        return f"http://127.0.0.1:{self.port}"

    def stop(self) -> int:
        """SIGTERM, then wait; the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


def start_server(database_url: str, secret_key: str, base_url: str, log: Path) -> Server:
    """Start one server (it migrates at start) without waiting for it."""
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url,
        "TELEHUB_SECRET_KEY": secret_key,
        "TELEHUB_BASE_URL": base_url,
        "TELEHUB_PORT": str(port),
        "TELEHUB_LOG_JSON": "true",
        "TELEHUB_WEBHOOK_ALLOW_PRIVATE": "true",
    }
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            [TELEHUB, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=ROOT
        )
    return Server(proc, port, log)


# The races' processes share one secret and one base URL: a token issued for one is good at
# every other (tokens name this issuer and audience).
RACE_SECRET = "e2e-secret-key-" + "r" * 40
RACE_BASE_URL = "http://telehub.test"


def race_settings(database_url: str) -> Settings:
    """Settings for building the race's network on the processes' database."""
    return Settings(database_url=database_url, secret_key=RACE_SECRET, base_url=RACE_BASE_URL)


@asynccontextmanager
async def running_servers(
    database_url: str, logs: Path, count: int = 2
) -> AsyncIterator[list[Server]]:
    """`count` server processes started at the same moment on one database, each ready before
    the block begins and stopped when it ends."""
    started = [
        start_server(database_url, RACE_SECRET, RACE_BASE_URL, logs / f"server{i}.log")
        for i in range(count)
    ]
    try:
        for server in started:
            await asyncio.to_thread(wait_ready, server.url + "/readyz", server.proc)
        yield started
    finally:
        for server in started:
            server.stop()
