"""A newcomer to the demo can sign in as hub staff: the banner says how to get a code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from telehub import mfa
from telehub.cli import describe, main

KEY = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
NETWORK = {
    "hub_admin": {"client_id": "hub", "client_secret": "s"},
    "hub_users": [
        {
            "email": "admin@hub.telehub.test",
            "password": "pw",
            "role": "hub_admin",
            "totp_secret": KEY,
        }
    ],
    "consultants": [],
    "spokes": [
        {
            "name": "Riverside",
            "client_id": "c",
            "client_secret": "s",
            "users": [{"email": "s@r.test", "password": "pw", "role": "spoke_scheduler"}],
        }
    ],
}


def test_the_banner_shows_each_demo_key_and_the_command_that_prints_a_code() -> None:
    banner = describe(NETWORK, "http://127.0.0.1:8080")
    assert "authenticator app" in banner
    assert "telehub totp EMAIL" in banner
    assert f"admin@hub.telehub.test{' ' * 22} {mfa.grouped(KEY)}" in banner


def test_telehub_totp_prints_the_current_code_of_a_demo_user(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    logins = tmp_path / "demo.json"
    logins.write_text(json.dumps(NETWORK))
    assert main(["totp", "Admin@hub.telehub.test", "--file", str(logins)]) == 0
    code = capsys.readouterr().out.strip()
    assert len(code) == 6 and code.isdigit()
    assert main(["totp", "s@r.test", "--file", str(logins)]) == 1  # no authenticator
    assert main(["totp", "x@y.test", "--file", str(tmp_path / "missing.json")]) == 1


def test_the_banner_names_the_fhir_backend_client_and_how_to_sign_its_assertion() -> None:
    backend = {"client_id": "th_ehr", "fhir_base": "http://127.0.0.1:8080/fhir/r4"}
    banner = describe({**NETWORK, "fhir_backend": backend}, "http://127.0.0.1:8080")
    fhir = banner.split("FHIR R4 (SMART Backend Services", 1)[1]
    assert "http://127.0.0.1:8080/fhir/r4" in fhir and "th_ehr" in fhir
    assert "python -m telehub.demo_fhir assertion" in fhir
    assert "FHIR R4" not in describe(NETWORK, None)  # a network without one says nothing
