"""The memo of verified access tokens answers exactly as a full check would: a remembered
token still expires, and is still refused by a deployment with another key."""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from telehub import auth
from telehub.auth import CLOCK_SKEW, Caller, InvalidToken, issue_access_token, read_access_token
from telehub.settings import Settings

SETTINGS = Settings(
    database_url="postgresql://unused", secret_key="m" * 40, base_url="http://telehub.test"
)
OTHER_DEPLOYMENT = Settings(
    database_url="postgresql://unused", secret_key="n" * 40, base_url="http://telehub.test"
)
SPOKE = Caller("spoke", "th_memo_client", frozenset({"bookings:read"}), spoke_id=7)


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch: pytest.MonkeyPatch) -> None:
    token = issue_access_token(SETTINGS, SPOKE)
    assert read_access_token(SETTINGS, token) == SPOKE
    assert read_access_token(SETTINGS, token) == SPOKE  # from the memo
    later = time.time() + SETTINGS.access_token_ttl + CLOCK_SKEW + 1
    monkeypatch.setattr(auth, "time", SimpleNamespace(time=lambda: later))

    with pytest.raises(InvalidToken, match="expired"):
        read_access_token(SETTINGS, token)


def test_a_remembered_token_is_still_refused_by_another_deployment() -> None:
    token = issue_access_token(SETTINGS, SPOKE)
    assert read_access_token(SETTINGS, token) == SPOKE

    with pytest.raises(InvalidToken):
        read_access_token(OTHER_DEPLOYMENT, token)


def test_the_memo_is_bounded() -> None:
    for n in range(auth._VERIFIED_MAX + 10):
        caller = Caller("spoke", f"th_memo_{n}", frozenset({"bookings:read"}), spoke_id=7)
        read_access_token(SETTINGS, issue_access_token(SETTINGS, caller))

    assert len(auth._VERIFIED) <= auth._VERIFIED_MAX
