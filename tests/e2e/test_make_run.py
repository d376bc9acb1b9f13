"""A newcomer's first command: `make run` on a fresh copy works, as the README says."""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import signal
import subprocess
import time
import urllib.request
from pathlib import Path
from typing import Any

import psutil
import pytest

from tests.e2e.processes import ROOT, free_port, wait_ready

pytestmark = pytest.mark.slow


def _fresh_copy(target: Path) -> None:
    """What a clone would hold: tracked files plus new files git would not ignore."""
    listed = (
        subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=ROOT,
            capture_output=True,
            check=True,
        )
        .stdout.decode()
        .split("\0")
    )
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target / name)


def _get(url: str, token: str | None = None) -> Any:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200, url
        body = response.read()
    return json.loads(body) if body.startswith(b"{") else body


def _token(base: str, client_id: str, secret: str) -> str:
    request = urllib.request.Request(
        base + "/oauth/token",
        data=b"grant_type=client_credentials",
        headers={
            "Authorization": "Basic " + base64.b64encode(f"{client_id}:{secret}".encode()).decode(),
            "Content-Type": "application/x-www-form-urlencoded",
        },
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return str(json.load(response)["access_token"])


def test_make_run_on_a_fresh_copy_serves_the_readme_urls_and_the_demo_network(
    tmp_path: Path,
) -> None:
    checkout = tmp_path / "telehub"
    _fresh_copy(checkout)
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "VIRTUAL_ENV"}}
    env.update(TELEHUB_PORT=str(port), PATH=os.defpath + ":" + env.get("PATH", ""))
    log = tmp_path / "make-run.log"
    with log.open("wb") as sink:
        make = subprocess.Popen(
            ["make", "run"],
            cwd=checkout,
            env=env,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            wait_ready(base + "/readyz", make, seconds=600)
        except RuntimeError:
            raise AssertionError(log.read_text()[-3000:]) from None
        printed = log.read_text()
        assert f"Telehub is running at {base}" in printed
        assert "admin@hub.telehub.test" in printed

        # Every URL the README lists answers.
        readme = (checkout / "README.md").read_text()
        urls = set(re.findall(r"^- [^:]+: (http://127\.0\.0\.1:8080\S*)$", readme, re.M))
        assert len(urls) >= 4
        for url in sorted(urls):
            if not url.endswith("/oauth/token"):
                _get(url.replace(":8080", f":{port}"))

        # The demo network is there, through the API, with the printed credentials.
        demo = json.loads((checkout / "var" / "demo.json").read_text())
        admin = _token(base, demo["hub_admin"]["client_id"], demo["hub_admin"]["client_secret"])
        consultants = _get(base + "/api/v1/consultants", admin)["consultants"]
        assert len(consultants) >= 6
        assert len({c["timezone"] for c in consultants}) >= 2
        kinds = {s["kind"] for s in _get(base + "/api/v1/services", admin)["services"]}
        assert kinds == {"econsult", "video_session", "case_review", "group_session"}
        assert len(demo["spokes"]) >= 4
        assert len({s["state"] for s in demo["spokes"]}) >= 4
        for spoke in demo["spokes"]:
            token = _token(base, spoke["client_id"], spoke["client_secret"])
            assert _get(base + "/api/v1/patients", token)["patients"]
        assert _get(base + "/api/v1/bookings", admin)["bookings"]

        # The README's API example, pasted as it stands into a shell at the checkout's top.
        services, slots = _run_readme_example(checkout, readme, port)
        assert {s["kind"] for s in services["services"]} == {
            "econsult",
            "video_session",
            "case_review",
            "group_session",
        }
        assert slots["slots"], slots
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C sends to the terminal's group
        code = make.wait(30)
    data_dir = str(checkout / "var" / "postgres")
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and _postgres_running(data_dir):
        time.sleep(0.3)
    assert not _postgres_running(data_dir), "the embedded PostgreSQL outlived Ctrl-C"
    # make passes Ctrl-C on and then dies of it itself (-SIGINT); telehub exits 0 or 130.
    assert code in (0, 130, -signal.SIGINT), log.read_text()[-2000:]
    assert "Stopped telehub and the embedded PostgreSQL" in log.read_text()


def _run_readme_example(checkout: Path, readme: str, port: int) -> list[Any]:
    """Run the README's `sh` block that asks for slots; return the JSON documents it printed."""
    blocks = re.findall(r"^```sh\n(.*?)^```$", readme, re.M | re.S)
    [example] = [b for b in blocks if "/api/v1/slots" in b]
    # Loopback only: no proxy may carry the example's requests elsewhere.
    env = {k: v for k, v in os.environ.items() if not k.lower().endswith("_proxy")}
    env.update(TELEHUB_PORT=str(port), NO_PROXY="127.0.0.1", no_proxy="127.0.0.1")
    ran = subprocess.run(
        ["sh", "-e", "-c", example],
        cwd=checkout,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert ran.returncode == 0, ran.stderr
    return [json.loads(line) for line in ran.stdout.splitlines() if line.strip()]


def _postgres_running(data_dir: str) -> bool:
    for proc in psutil.process_iter(["name", "cmdline"]):
        if proc.info["name"] == "postgres" and data_dir in " ".join(proc.info["cmdline"] or []):
            return True
    return False
