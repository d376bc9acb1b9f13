"""The second factor: TOTP codes (RFC 6238), their secrets sealed at rest, recovery codes.

Pure functions: no database, no aiohttp. The time step a code belongs to is returned so that
the store can refuse a step already used (a replayed code). Secrets are sealed with AES-GCM
under a key derived from the app's secret key, bound to the user they belong to.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import re
import secrets
from datetime import datetime

import pyotp
import segno

from telehub import sealing

ISSUER = "Telehub"
STEP_SECONDS = 30
DIGITS = 6
# One step either side: a phone clock a little off, or a code typed as it turned over.
WINDOW = 1
RECOVERY_CODES = 10
# No 0/o, 1/l/i: recovery codes are read off paper.
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"
_RECOVERY_LENGTH = 10  # about 50 bits each
_CODE = re.compile(r"^[0-9]{6}$")

# Wrong codes in a row (TOTP or recovery) after which the authenticator is locked until an
# administrator resets it: NIST SP 800-63B §5.2.2 allows at most 100. With the per-account
# throttle this ends an online guess at about 20 x 3 / 10^6, where it never ended before.
LOCK_AFTER = 20

# Roles that always sign in with a second factor; clinic staff when their clinic says so.
REQUIRED_ROLES = frozenset({"hub_admin", "hub_coordinator", "consultant"})


def required(role: str, spoke_requires: bool) -> bool:
    """Whether a user of this role (at a clinic that does or doesn't ask for it) needs MFA."""
    return role in REQUIRED_ROLES or spoke_requires


def locked(failed_codes: int) -> bool:
    """Whether this many wrong codes in a row lock the authenticator."""
    return failed_codes >= LOCK_AFTER


def _key(secret_key: str, purpose: bytes) -> bytes:
    return sealing.derived_key(secret_key, purpose)


def _aad(user_id: int) -> bytes:
    return f"telehub-totp-v1:{user_id}".encode()


def new_secret() -> str:
    """A fresh base32 TOTP secret (160 bits, as RFC 4226 recommends)."""
    return pyotp.random_base32(32)


def seal(secret_key: str, user_id: int, totp_secret: str) -> bytes:
    """The TOTP secret encrypted for storage: nonce then AES-GCM ciphertext."""
    return sealing.seal(secret_key, b"telehub totp secret v1", _aad(user_id), totp_secret)


def unseal(secret_key: str, user_id: int, sealed: bytes) -> str:
    """The TOTP secret back from storage (raises InvalidTag if it was not sealed for them)."""
    return sealing.unseal(secret_key, b"telehub totp secret v1", _aad(user_id), sealed)


def step_of(now: datetime) -> int:
    """The TOTP time step `now` falls in."""
    return int(now.timestamp()) // STEP_SECONDS


def code_at(totp_secret: str, step: int) -> str:
    """The code an authenticator shows during `step`."""
    return pyotp.TOTP(totp_secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def looks_like_code(typed: str) -> bool:
    """Six digits (spaces allowed): an authenticator code rather than a recovery code."""
    return bool(_CODE.match(normalize(typed)))


def normalize(typed: str) -> str:
    """What was typed, without the spaces and dashes people add, lower-cased."""
    return re.sub(r"[\s-]+", "", typed).lower()


def matching_step(totp_secret: str, typed: str, now: datetime) -> int | None:
    """The step (within the window around `now`) whose code was typed, or None."""
    code = normalize(typed)
    if not _CODE.match(code):
        return None
    current = step_of(now)
    for step in range(current - WINDOW, current + WINDOW + 1):
        if hmac.compare_digest(code_at(totp_secret, step), code):
            return step
    return None


def provisioning_uri(totp_secret: str, email: str) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(totp_secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=email, issuer_name=ISSUER
    )


def qr_data_uri(uri: str) -> str:
    """The QR code of `uri` as an SVG data: URI (the page CSP allows data: images)."""
    out = io.BytesIO()
    # An image needs the SVG namespace; a light background keeps it scannable in dark mode.
    segno.make(uri, error="m").save(out, kind="svg", scale=5, border=2, xmldecl=False, light="#fff")
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode()


def grouped(totp_secret: str) -> str:
    """The secret in groups of four, for typing into an authenticator by hand."""
    return " ".join(totp_secret[i : i + 4] for i in range(0, len(totp_secret), 4))


def new_recovery_codes() -> list[str]:
    """Ten one-time recovery codes, as shown to the user (xxxxx-xxxxx)."""
    codes = []
    for _ in range(RECOVERY_CODES):
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(_RECOVERY_LENGTH))
        codes.append(f"{raw[:5]}-{raw[5:]}")
    return codes


def recovery_hash(secret_key: str, code: str) -> bytes:
    """The stored form of a recovery code: HMAC-SHA256 under a key derived from the app key."""
    key = _key(secret_key, b"telehub recovery code v1")
    return hmac.new(key, normalize(code).encode(), hashlib.sha256).digest()
