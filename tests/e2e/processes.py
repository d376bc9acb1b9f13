"""Start real telehub server processes for end-to-end tests."""

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
