"""TOTP codes (RFC 6238), sealed secrets and recovery codes, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from cryptography.exceptions import InvalidTag

from telehub import mfa

KEY = "app-secret-key-" + "x" * 32
NOW = datetime(2027, 3, 1, 15, 0, 10, tzinfo=UTC)


def test_the_rfc_6238_test_vector_for_sha1() -> None:
    secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"  # base32 of "12345678901234567890"
    step = mfa.step_of(datetime.fromtimestamp(59, UTC))
    assert step == 1
    assert mfa.code_at(secret, step) == "287082"  # RFC 6238 appendix B, last six digits


def test_a_code_is_accepted_one_step_either_side_and_says_which_step() -> None:
    secret = mfa.new_secret()
    now = mfa.step_of(NOW)
    for offset in (-1, 0, 1):
        assert mfa.matching_step(secret, mfa.code_at(secret, now + offset), NOW) == now + offset
    assert mfa.matching_step(secret, mfa.code_at(secret, now + 2), NOW) is None
    spaced = mfa.code_at(secret, now)
    assert mfa.matching_step(secret, f"{spaced[:3]} {spaced[3:]}", NOW) == now
    assert mfa.matching_step(secret, "abcdef", NOW) is None


def test_a_sealed_secret_opens_only_for_its_user_and_key() -> None:
    secret = mfa.new_secret()
    sealed = mfa.seal(KEY, 7, secret)
    assert secret.encode() not in sealed
    assert mfa.unseal(KEY, 7, sealed) == secret
    assert mfa.seal(KEY, 7, secret) != sealed  # a fresh nonce each time
    with pytest.raises(InvalidTag):
        mfa.unseal(KEY, 8, sealed)  # another user's row
    with pytest.raises(InvalidTag):
        mfa.unseal("another-key-" + "y" * 32, 7, sealed)


def test_recovery_codes_are_distinct_and_hashed_as_typed_by_people() -> None:
    codes = mfa.new_recovery_codes()
    assert len(codes) == 10 == len(set(codes))
    code = codes[0]
    assert mfa.recovery_hash(KEY, code) == mfa.recovery_hash(KEY, code.upper().replace("-", " "))
    assert mfa.recovery_hash(KEY, code) != mfa.recovery_hash("another-key-" + "y" * 32, code)
    assert not mfa.looks_like_code(code)


def test_who_must_use_a_second_factor() -> None:
    for role in ("hub_admin", "hub_coordinator", "consultant"):
        assert mfa.required(role, spoke_requires=False)
    assert not mfa.required("spoke_scheduler", spoke_requires=False)
    assert mfa.required("spoke_clinician", spoke_requires=True)


def test_the_qr_code_is_an_svg_data_uri() -> None:
    uri = mfa.provisioning_uri(mfa.new_secret(), "a@b.test")
    assert uri.startswith("otpauth://totp/Telehub:a%40b.test?secret=")
    assert mfa.qr_data_uri(uri).startswith("data:image/svg+xml;base64,")


def test_steps_are_thirty_seconds() -> None:
    assert mfa.step_of(NOW + timedelta(seconds=30)) == mfa.step_of(NOW) + 1
