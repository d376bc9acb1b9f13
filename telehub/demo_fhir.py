"""The demo's FHIR backend client: a clinic's EHR registered with a JWKS, no secret.

It is how an EHR integrates under SMART Backend Services: telehub keeps only the public key;
the clinic signs a short-lived client assertion (`private_key_jwt`, RS384) with its private key
and trades it at the token endpoint for a bearer token. The demo generates the key pair, keeps
the private key in the demo's credentials (var/demo.json, mode 600) and, for tools that want a
file, writes it to var/fhir-backend-key.pem.

`python -m telehub.demo_fhir assertion` prints a fresh client assertion for the demo client (the
README's curl session uses it); `python -m telehub.demo_fhir key` writes the PEM file and prints
its path. Both play the clinic's side: telehub itself never signs with a client's key.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import sys
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import asyncpg
import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from telehub.clients import create_client
from telehub.settings import Settings

ALGORITHM = "RS384"
KEY_FILE = "fhir-backend-key.pem"
ASSERTION_SECONDS = 300  # SMART Backend Services: an assertion lives at most five minutes
# What the demo client asks for: the SMART v2 system scopes of the README's session.
SMART_SCOPES = (
    "system/Slot.rs system/Schedule.rs system/Appointment.cruds system/Patient.rs "
    "system/DocumentReference.rs"
)


def new_key() -> rsa.RSAPrivateKey:
    """A fresh 2048-bit RSA key (RS384 needs RSA of at least 2048 bits)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def public_jwks(key: rsa.RSAPrivateKey) -> dict[str, Any]:
    """The JWK Set telehub stores: the public half only, with its RFC 7638 thumbprint as kid."""
    jwk: dict[str, Any] = RSAAlgorithm.to_jwk(key.public_key(), as_dict=True)
    jwk.update(kid=_kid(jwk), alg=ALGORITHM, use="sig")
    return {"keys": [jwk]}


def _kid(jwk: Mapping[str, Any]) -> str:
    """The RFC 7638 thumbprint (SHA-256, base64url) of an RSA public JWK."""
    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"))
    digest = hashlib.sha256(canonical.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def private_pem(key: rsa.RSAPrivateKey) -> str:
    """The private key as unencrypted PKCS#8 PEM (demo only: a real EHR keeps it in a vault)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


async def seed(
    conn: asyncpg.Connection,
    settings: Settings,
    spoke: Mapping[str, Any],
    *,
    key: rsa.RSAPrivateKey | None = None,
) -> dict[str, Any]:
    """Register the clinic's FHIR backend client with a JWKS; return what its EHR needs."""
    key = key or new_key()
    jwks = public_jwks(key)
    client, secret = await create_client(
        conn,
        name=f"{spoke['name']} EHR (FHIR, SMART Backend Services)",
        kind="spoke",
        spoke_id=spoke["id"],
        jwks=jwks,
        with_secret=False,
    )
    assert secret is None  # a JWKS client proves itself with its key alone
    return {
        "clinic": spoke["slug"],
        "client_id": client.client_id,
        "kid": jwks["keys"][0]["kid"],
        "algorithm": ALGORITHM,
        "token_endpoint": settings.token_endpoint,
        "fhir_base": f"{settings.base_url}/fhir/r4",
        "scope": SMART_SCOPES,
        "key_file": f"var/{KEY_FILE}",
        "private_key_pem": private_pem(key),
    }


def client_assertion(backend: Mapping[str, Any], *, now: float | None = None) -> str:
    """A SMART Backend Services client assertion signed with the demo client's private key."""
    issued = time.time() if now is None else now
    claims = {
        "iss": backend["client_id"],
        "sub": backend["client_id"],
        "aud": backend["token_endpoint"],
        "jti": str(uuid.uuid4()),
        "exp": int(issued) + ASSERTION_SECONDS,
    }
    # The clinic's side of private_key_jwt (telehub's own tokens are signed in telehub.auth).
    return jwt.encode(
        claims,
        backend["private_key_pem"],
        algorithm=backend["algorithm"],
        headers={"kid": backend["kid"]},
    )


def write_key(backend: Mapping[str, Any], var: Path) -> Path:
    """Write the demo client's private key to var/fhir-backend-key.pem (mode 600)."""
    path = var / KEY_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch(mode=0o600, exist_ok=True)
    path.chmod(0o600)
    path.write_text(backend["private_key_pem"])
    return path


def backend_of(network: Mapping[str, Any]) -> dict[str, Any]:
    """The FHIR backend client of a demo network (its demo.json)."""
    backend = network.get("fhir_backend")
    if not isinstance(backend, dict):
        raise LookupError("the demo network has no FHIR backend client")
    return backend


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    """`python -m telehub.demo_fhir assertion|key`: the demo EHR's side of private_key_jwt."""
    parser = argparse.ArgumentParser(prog="python -m telehub.demo_fhir", description=__doc__)
    parser.add_argument("what", choices=("assertion", "key", "client-id"))
    parser.add_argument("--var", help="the demo's var directory (default: $TELEHUB_VAR or var)")
    args = parser.parse_args(argv)
    env = os.environ if env is None else env
    var = Path(args.var or env.get("TELEHUB_VAR", "var"))
    logins = var / "demo.json"
    try:
        backend = backend_of(json.loads(logins.read_text()))
    except (OSError, ValueError, LookupError) as exc:
        print(
            f"telehub: no demo FHIR client in {logins} ({exc}); `make run` writes it",
            file=sys.stderr,
        )
        return 1
    if args.what == "assertion":
        print(client_assertion(backend))
    elif args.what == "key":
        print(write_key(backend, var))
    else:
        print(backend["client_id"])
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
