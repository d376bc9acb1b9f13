"""Secrets sealed with the app's key open only for the purpose and owner they were sealed for."""

from __future__ import annotations

import pytest
from cryptography.exceptions import InvalidTag

from telehub import mfa, sealing

KEY = "k" * 40


def test_a_sealed_text_opens_with_the_same_key_purpose_and_owner() -> None:
    sealed = sealing.seal(KEY, b"feed", b"owner:1", "the token")

    assert b"the token" not in sealed
    assert sealing.unseal(KEY, b"feed", b"owner:1", sealed) == "the token"


@pytest.mark.parametrize(
    ("key", "purpose", "owner"),
    [("x" * 40, b"feed", b"owner:1"), (KEY, b"totp", b"owner:1"), (KEY, b"feed", b"owner:2")],
)
def test_another_key_purpose_or_owner_does_not_open_it(
    key: str, purpose: bytes, owner: bytes
) -> None:
    sealed = sealing.seal(KEY, b"feed", b"owner:1", "the token")

    with pytest.raises(InvalidTag):
        sealing.unseal(key, purpose, owner, sealed)


def test_totp_secrets_are_sealed_by_the_same_cipher() -> None:
    sealed = mfa.seal(KEY, 7, "JBSWY3DPEHPK3PXP")

    assert sealing.unseal(KEY, b"telehub totp secret v1", b"telehub-totp-v1:7", sealed) == (
        "JBSWY3DPEHPK3PXP"
    )
    assert mfa.unseal(KEY, 7, sealed) == "JBSWY3DPEHPK3PXP"
