"""A PostgreSQL of a test's own (initdb'd from the pgserver wheel), to stop and start at will."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import warnings
from pathlib import Path

from tests.e2e.processes import free_port


def _bin() -> Path:
    with warnings.catch_warnings():
        # platformdirs warns at import when XDG_RUNTIME_DIR is unset (as in telehub.embedded).
        warnings.simplefilter("ignore")
        from pgserver._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def _ensure_user(name: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from pgserver.utils import ensure_user_exists

    ensure_user_exists(name)


class OwnPostgres:
    """A throwaway cluster on a loopback TCP port; `stop` and `start` are the outage."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="telehub-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "postgres.log"
        self.port = free_port()
        # PostgreSQL refuses to run as root: run it as the user pgserver uses for the same.
        self._user: str | None = None
        if os.geteuid() == 0:
            _ensure_user("pgserver")
            self._user = "pgserver"
            shutil.chown(self.root, self._user)
        self.running = False

    def _run(self, program: str, *args: str) -> None:
        with (self.root / "commands.err").open("ab") as errors:
            subprocess.run(
                [str(_bin() / program), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                # pg_ctl's server keeps inherited pipes open: never capture into a pipe.
                stdout=subprocess.DEVNULL,
                stderr=errors,
                timeout=120,
                user=self._user,
            )

    def init(self) -> None:
        """initdb, trusting local connections."""
        self._run("initdb", "-D", str(self.data), "--auth=trust", "-U", "postgres", "-E", "utf8")

    def start(self) -> None:
        """Start and wait until it accepts connections."""
        options = f"-h 127.0.0.1 -p {self.port} -c unix_socket_directories=''"
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "start")
        self.running = True

    def stop(self) -> None:
        """A fast shutdown: open sessions are ended, as when the database is restarted."""
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")
        self.running = False

    def url(self, database: str = "postgres") -> str:
        """A connection URL for one of its databases."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/{database}"

    def remove(self) -> None:
        """Stop it if it runs, and delete its files."""
        if self.running:
            self.stop()
        shutil.rmtree(self.root, ignore_errors=True)
