"""Typed settings, read once from the environment in main() and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_VIDEO_URL_TEMPLATE = "https://video.telehub.example/room/{room}"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one telehub process."""

    database_url: str
    secret_key: str = field(repr=False)
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    db_pool_min: int = 2
    db_pool_max: int = 10
    db_acquire_timeout: float = 2.0
    db_statement_timeout_ms: int = 10_000
    access_token_ttl: int = 300
    video_url_template: str = DEFAULT_VIDEO_URL_TEMPLATE
    max_body_bytes: int = 256 * 1024
    log_json: bool | None = None  # None: JSON unless stderr is a terminal

    @property
    def issuer(self) -> str:
        """The `iss` of the access tokens this service signs."""
        return self.base_url

    @property
    def audience(self) -> str:
        """The `aud` that access tokens must carry to reach the API."""
        return self.base_url + "/api"

    @property
    def token_endpoint(self) -> str:
        """The `aud` a private_key_jwt client assertion must name (SMART Backend Services)."""
        return self.base_url + "/oauth/token"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Build settings from TELEHUB_* variables and DATABASE_URL; fail naming what is wrong."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        values["database_url"] = _required(env, "DATABASE_URL")
        values["secret_key"] = _required(env, "TELEHUB_SECRET_KEY")
        if len(str(values["secret_key"])) < 32:
            raise ConfigError("TELEHUB_SECRET_KEY must be at least 32 characters")
        for name, kind in (
            ("base_url", str),
            ("host", str),
            ("port", int),
            ("db_pool_min", int),
            ("db_pool_max", int),
            ("db_acquire_timeout", float),
            ("db_statement_timeout_ms", int),
            ("access_token_ttl", int),
            ("video_url_template", str),
            ("max_body_bytes", int),
        ):
            var = "TELEHUB_" + name.upper()
            if var in env:
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ConfigError(f"{var} must be a {kind.__name__}") from None
        if "TELEHUB_LOG_JSON" in env:
            values["log_json"] = env["TELEHUB_LOG_JSON"].lower() in {"1", "true", "yes"}
        values.update(overrides)
        settings = cls(**values)  # type: ignore[arg-type]
        settings.check()
        return settings

    def check(self) -> None:
        """Refuse combinations that cannot work, naming the setting."""
        if urlsplit(self.base_url).scheme not in {"http", "https"}:
            raise ConfigError("TELEHUB_BASE_URL must be an http(s) URL")
        if self.base_url.endswith("/"):
            raise ConfigError("TELEHUB_BASE_URL must not end with '/'")
        if "{room}" not in self.video_url_template:
            raise ConfigError("TELEHUB_VIDEO_URL_TEMPLATE must contain {room}")
        if not 1 <= self.db_pool_min <= self.db_pool_max:
            raise ConfigError("TELEHUB_DB_POOL_MIN must be between 1 and TELEHUB_DB_POOL_MAX")


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required")
    return value
