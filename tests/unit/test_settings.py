"""Settings come from the environment once, and name what is missing or wrong."""

from __future__ import annotations

import pytest

from telehub.settings import ConfigError, Settings

GOOD = {"DATABASE_URL": "postgresql://db/telehub", "TELEHUB_SECRET_KEY": "s" * 40}


def test_the_two_required_values_are_enough() -> None:
    settings = Settings.from_env(GOOD)
    assert settings.database_url == "postgresql://db/telehub"
    assert settings.audience == "http://127.0.0.1:8080/api"
    assert settings.token_endpoint == "http://127.0.0.1:8080/oauth/token"


@pytest.mark.parametrize("missing", ["DATABASE_URL", "TELEHUB_SECRET_KEY"])
def test_a_missing_required_value_is_named(missing: str) -> None:
    env = {k: v for k, v in GOOD.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        Settings.from_env(env)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("TELEHUB_PORT", "eighty"),
        ("TELEHUB_SECRET_KEY", "short"),
        ("TELEHUB_BASE_URL", "ftp://example.org"),
        ("TELEHUB_VIDEO_URL_TEMPLATE", "https://video.example.org/fixed"),
        ("TELEHUB_DB_POOL_MIN", "0"),
    ],
)
def test_a_malformed_value_is_named(name: str, value: str) -> None:
    with pytest.raises(ConfigError, match=name):
        Settings.from_env({**GOOD, name: value})


def test_the_secret_key_never_shows_in_the_settings_repr() -> None:
    assert "s" * 40 not in repr(Settings.from_env(GOOD))


def test_trusted_proxies_are_read_as_networks_and_default_to_none() -> None:
    assert Settings.from_env(GOOD).trusted_proxies == ()
    settings = Settings.from_env({**GOOD, "TELEHUB_TRUSTED_PROXIES": "10.0.0.0/8, ::1 ,"})
    assert [str(n) for n in settings.trusted_proxies] == ["10.0.0.0/8", "::1/128"]


def test_a_malformed_trusted_proxy_is_named() -> None:
    with pytest.raises(ConfigError, match=r"TELEHUB_TRUSTED_PROXIES: 'proxy\.local'"):
        Settings.from_env({**GOOD, "TELEHUB_TRUSTED_PROXIES": "10.0.0.1, proxy.local"})
