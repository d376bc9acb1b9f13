"""The Makefile's Python probe is quiet on a machine with pyenv shims for missing versions."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

SHIM = """#!/bin/sh
echo "pyenv: $(basename "$0"): command not found" >&2
echo "The \\`$(basename "$0")' command exists in these Python versions:" >&2
exit 127
"""


@pytest.mark.skipif(shutil.which("make") is None, reason="needs make")
def test_a_pyenv_shim_that_cannot_run_is_skipped_without_a_word(tmp_path: Path) -> None:
    shims = tmp_path / "shims"
    shims.mkdir()
    for name in ("python3.13", "python3.12"):
        shim = shims / name
        shim.write_text(SHIM)
        shim.chmod(0o755)
    checkout = tmp_path / "checkout"
    checkout.mkdir()
    for name in ("Makefile", "pyproject.toml"):
        shutil.copy2(ROOT / name, checkout / name)
    # The shims come first, as pyenv puts them; a real Python 3.11+ (this one) comes after.
    path = os.pathsep.join([str(shims), str(Path(sys.executable).parent), os.defpath])
    # Run as a top-level make even under `make test` (a sub-make prints the directory, and
    # this test's folder name holds the word pyenv).
    outer = {"PYTHON", "MAKEFLAGS", "MFLAGS", "MAKELEVEL"}
    env = {k: v for k, v in os.environ.items() if k not in outer}
    env["PATH"] = path

    # -n: print what `make run` would do on a fresh clone (the probe runs while printing).
    made = subprocess.run(
        ["make", "--no-print-directory", "-n", "run"],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert made.returncode == 0, made.stderr
    assert made.stderr == ""
    assert "pyenv:" not in made.stdout
    assert "command not found" not in made.stdout
    venv = [line for line in made.stdout.splitlines() if "-m venv .venv" in line]
    assert venv, made.stdout
    assert not venv[0].startswith(("python3.13 ", "python3.12 "))
