"""The demo's FHIR backend client: a clinic EHR registered with a JWKS and no secret, whose
private key the demo keeps, so the README's session gets a token with nothing but that key."""

from __future__ import annotations

import json
import stat
import time
from pathlib import Path
from typing import Any

import asyncpg
import jwt
import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives import serialization

from telehub import demo, demo_fhir
from telehub.auth import ASSERTION_TYPE, InvalidToken, read_access_token, verify_client_assertion
from telehub.clients import get_client
from telehub.settings import Settings
from tests.factories import Clock


@pytest.fixture
async def network(conn: asyncpg.Connection, settings: Settings, clock: Clock) -> dict[str, Any]:
    """The demo network, seeded at the test clock's now."""
    return await demo.seed(conn, settings, now=clock.now, authenticators=False)


@pytest.fixture
def backend(network: dict[str, Any]) -> dict[str, Any]:
    """The demo network's FHIR backend client, as demo.json holds it."""
    return demo_fhir.backend_of(json.loads(json.dumps(network)))


async def test_the_first_clinic_has_a_backend_client_with_a_jwks_and_no_secret(
    conn: asyncpg.Connection, network: dict[str, Any], backend: dict[str, Any]
) -> None:
    first = network["spokes"][0]
    client = await get_client(conn, backend["client_id"])

    assert client is not None and client.active
    assert client.kind == "spoke" and client.spoke_id == first["id"]
    assert client.secret_hash is None
    assert backend["client_id"] != first["client_id"]  # not the clinic's secret-based client
    assert backend["clinic"] == first["slug"]


async def test_telehub_keeps_only_the_public_half_of_the_key(
    conn: asyncpg.Connection, backend: dict[str, Any]
) -> None:
    client = await get_client(conn, backend["client_id"])
    assert client is not None and client.jwks is not None
    (jwk,) = client.jwks["keys"]
    assert jwk["kty"] == "RSA" and jwk["kid"] == backend["kid"] and jwk["alg"] == "RS384"
    assert not {"d", "p", "q", "dp", "dq", "qi"} & set(jwk)

    private = serialization.load_pem_private_key(backend["private_key_pem"].encode(), None)
    public_numbers = private.public_key().public_numbers()  # type: ignore[union-attr]
    stored = jwt.PyJWK(jwk).key.public_numbers()
    assert (stored.n, stored.e) == (public_numbers.n, public_numbers.e)


async def test_an_assertion_signed_with_the_demo_key_verifies_against_the_stored_jwks(
    conn: asyncpg.Connection, settings: Settings, backend: dict[str, Any]
) -> None:
    client = await get_client(conn, backend["client_id"])
    assert client is not None and client.jwks is not None
    now = time.time()

    assertion = demo_fhir.client_assertion(backend, now=now)
    checked = verify_client_assertion(
        settings, assertion, backend["client_id"], client.jwks, now=now
    )

    assert checked.expires_at == int(now) + demo_fhir.ASSERTION_SECONDS
    assert jwt.get_unverified_header(assertion)["kid"] == backend["kid"]
    assert backend["token_endpoint"] == settings.token_endpoint


async def test_an_assertion_signed_with_another_key_is_refused(
    conn: asyncpg.Connection, settings: Settings, backend: dict[str, Any]
) -> None:
    client = await get_client(conn, backend["client_id"])
    assert client is not None and client.jwks is not None
    impostor = {**backend, "private_key_pem": demo_fhir.private_pem(demo_fhir.new_key())}

    with pytest.raises(InvalidToken):
        verify_client_assertion(
            settings,
            demo_fhir.client_assertion(impostor),
            backend["client_id"],
            client.jwks,
            now=time.time(),
        )


async def test_the_token_endpoint_gives_the_demo_client_a_token_for_its_clinic(
    client: TestClient[Any, Any],
    settings: Settings,
    network: dict[str, Any],
    backend: dict[str, Any],
) -> None:
    # The token endpoint checks an assertion's expiry against the wall clock.
    assertion = demo_fhir.client_assertion(backend)

    answer = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
            "scope": "slots:read bookings:write",
        },
    )

    assert answer.status == 200, await answer.text()
    token = await answer.json()
    caller = read_access_token(settings, token["access_token"])
    assert caller.kind == "spoke" and caller.spoke_id == network["spokes"][0]["id"]
    assert caller.scopes == {"slots:read", "bookings:write"}

    again = await client.post(
        "/oauth/token",
        data={
            "grant_type": "client_credentials",
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        },
    )
    assert again.status == 401  # an assertion is used once (its jti is remembered)
    assert (await again.json())["error"] == "invalid_client"


def test_the_command_writes_the_key_file_private_and_prints_an_assertion(
    tmp_path: Path, backend: dict[str, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "demo.json").write_text(json.dumps({"fhir_backend": backend}))

    assert demo_fhir.main(["key", "--var", str(tmp_path)], env={}) == 0
    key_file = Path(capsys.readouterr().out.strip())
    assert key_file == tmp_path / demo_fhir.KEY_FILE
    assert key_file.read_text() == backend["private_key_pem"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600

    assert demo_fhir.main(["assertion"], env={"TELEHUB_VAR": str(tmp_path)}) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    assert claims["iss"] == claims["sub"] == backend["client_id"]
    assert claims["aud"] == backend["token_endpoint"]


def test_the_command_says_when_there_is_no_demo(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert demo_fhir.main(["assertion", "--var", str(tmp_path)], env={}) == 1
    assert "no demo FHIR client" in capsys.readouterr().err
