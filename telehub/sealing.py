"""Secrets kept so they can be read back: AES-GCM under a key derived from the app's key.

One cipher for every such secret (TOTP secrets, calendar-feed tokens): each use names its
purpose (the derived key differs per purpose) and binds the sealed text to what it belongs to
(associated data), so a sealed value copied to another row or use does not open.
"""

from __future__ import annotations

import secrets

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

NONCE_BYTES = 12


def derived_key(secret_key: str, purpose: bytes) -> bytes:
    """A 256-bit key for one purpose, derived from the app's secret key (HKDF-SHA256)."""
    return HKDF(algorithm=SHA256(), length=32, salt=None, info=purpose).derive(secret_key.encode())


def seal(secret_key: str, purpose: bytes, bound_to: bytes, text: str) -> bytes:
    """`text` encrypted for storage: a fresh nonce, then the AES-GCM ciphertext."""
    nonce = secrets.token_bytes(NONCE_BYTES)
    cipher = AESGCM(derived_key(secret_key, purpose))
    return nonce + cipher.encrypt(nonce, text.encode(), bound_to)


def unseal(secret_key: str, purpose: bytes, bound_to: bytes, sealed: bytes) -> str:
    """The text back (raises cryptography's InvalidTag if it was not sealed so)."""
    cipher = AESGCM(derived_key(secret_key, purpose))
    nonce, body = sealed[:NONCE_BYTES], sealed[NONCE_BYTES:]
    return cipher.decrypt(nonce, body, bound_to).decode()
