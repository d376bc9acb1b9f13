"""Typed settings, read once from the environment in main() and passed down."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from ipaddress import IPv4Network, IPv6Network, ip_network
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DEFAULT_VIDEO_URL_TEMPLATE = "https://video.telehub.example/room/{room}"


class ConfigError(Exception):
    """A setting is missing or malformed; the message names it."""


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything configurable about one telehub process."""

    database_url: str
    secret_key: str = field(repr=False)
    # A streaming replica that serves the heavy reads (slot searches, feeds, the coordinator
    # dashboard); None: every read goes to the primary.
    database_replica_url: str | None = None
    # A replica further behind than this (or out of reach) is passed over for the primary.
    replica_max_lag_seconds: float = 5.0
    base_url: str = "http://127.0.0.1:8080"
    host: str = "127.0.0.1"
    port: int = 8080
    db_pool_min: int = 2
    db_pool_max: int = 10
    db_acquire_timeout: float = 2.0
    db_statement_timeout_ms: int = 10_000
    # Client side: a database that stops answering frees the connection after this long
    # (asyncpg's command_timeout); a little longer than the server's statement_timeout.
    db_command_timeout: float = 12.0
    # How long `telehub serve` waits for the database at start; 0 waits for ever.
    db_start_timeout: float = 0.0
    access_token_ttl: int = 300
    video_url_template: str = DEFAULT_VIDEO_URL_TEMPLATE
    max_body_bytes: int = 256 * 1024
    log_json: bool | None = None  # None: JSON unless stderr is a terminal
    # The hub's business hours: e-consult turnaround is counted in them.
    hub_timezone: str = "America/New_York"
    hub_hours: str = "08:00-17:00"
    hub_workdays: str = "mon,tue,wed,thu,fri"
    econsult_auto_assign: bool = True
    # Webhook delivery.
    delivery_workers: bool = True
    webhook_timeout: float = 10.0
    webhook_lease: float = 60.0  # longer than the timeout: a dead process's claim runs out
    outbox_poll: float = 1.0
    webhook_backoff_base: float = 30.0
    webhook_backoff_max: float = 3600.0
    webhook_retry_days: float = 4.0  # at least three days of retries, then kept as failed
    # Webhooks go only to https on a public address unless this is set (dev, demo, tests).
    webhook_allow_private: bool = False
    # Web sessions end after this many idle minutes (HIPAA automatic logoff).
    session_idle_minutes: int = 30
    # A slot hold (POST /api/v1/holds, the booking page) keeps an open slot this many minutes.
    hold_minutes: float = 5
    # Rendered calendar events kept in memory, at most this many bytes.
    feed_cache_bytes: int = 16 * 1024 * 1024
    # Reverse proxies whose X-Forwarded-For names the client (see telehub/client_address.py).
    trusted_proxies: tuple[IPv4Network | IPv6Network, ...] = ()

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
            ("db_command_timeout", float),
            ("db_start_timeout", float),
            ("access_token_ttl", int),
            ("video_url_template", str),
            ("max_body_bytes", int),
            ("hub_timezone", str),
            ("hub_hours", str),
            ("hub_workdays", str),
            ("webhook_timeout", float),
            ("webhook_lease", float),
            ("outbox_poll", float),
            ("webhook_backoff_base", float),
            ("webhook_backoff_max", float),
            ("webhook_retry_days", float),
            ("session_idle_minutes", int),
            ("feed_cache_bytes", int),
            ("hold_minutes", float),
            ("replica_max_lag_seconds", float),
        ):
            var = "TELEHUB_" + name.upper()
            if var in env:
                try:
                    values[name] = kind(env[var])
                except ValueError:
                    raise ConfigError(f"{var} must be a {kind.__name__}") from None
        for name in (
            "log_json",
            "econsult_auto_assign",
            "delivery_workers",
            "webhook_allow_private",
        ):
            var = "TELEHUB_" + name.upper()
            if var in env:
                values[name] = env[var].lower() in {"1", "true", "yes", "on"}
        replica_url = env.get("TELEHUB_DATABASE_REPLICA_URL", "").strip()
        if replica_url:
            values["database_replica_url"] = replica_url
        if "TELEHUB_TRUSTED_PROXIES" in env:
            try:
                values["trusted_proxies"] = parse_networks(env["TELEHUB_TRUSTED_PROXIES"])
            except ValueError as e:
                raise ConfigError(f"TELEHUB_TRUSTED_PROXIES: {e}") from None
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
        if self.db_command_timeout * 1000 <= self.db_statement_timeout_ms:
            raise ConfigError(
                "TELEHUB_DB_COMMAND_TIMEOUT must be longer than TELEHUB_DB_STATEMENT_TIMEOUT_MS"
            )
        if self.replica_max_lag_seconds <= 0:
            raise ConfigError("TELEHUB_REPLICA_MAX_LAG_SECONDS must be more than 0")
        if not 0 < self.hold_minutes <= 60:
            raise ConfigError("TELEHUB_HOLD_MINUTES must be more than 0 and at most 60")
        if self.session_idle_minutes < 1:
            raise ConfigError("TELEHUB_SESSION_IDLE_MINUTES must be at least 1")
        if self.webhook_lease <= self.webhook_timeout:
            raise ConfigError("TELEHUB_WEBHOOK_LEASE must be longer than TELEHUB_WEBHOOK_TIMEOUT")
        try:
            ZoneInfo(self.hub_timezone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ConfigError("TELEHUB_HUB_TIMEZONE must be an IANA time zone") from None
        try:
            opens, closes = self.hub_opening()
        except ValueError:
            raise ConfigError("TELEHUB_HUB_HOURS must look like 08:00-17:00") from None
        if closes <= opens:
            raise ConfigError("TELEHUB_HUB_HOURS must close after it opens")
        days = self.hub_workday_numbers()
        if not days or len(days) != len(self.hub_workdays.split(",")):
            raise ConfigError("TELEHUB_HUB_WORKDAYS must list days like mon,tue,wed,thu,fri")

    def hub_opening(self) -> tuple[time, time]:
        """The hub's local opening and closing times."""
        opens, sep, closes = self.hub_hours.partition("-")
        if not sep:
            raise ValueError("hours look like 08:00-17:00")
        return time.fromisoformat(opens.strip()), time.fromisoformat(closes.strip())

    def hub_workday_numbers(self) -> frozenset[int]:
        """The hub's workdays as date.weekday() numbers (0 = Monday)."""
        days = {d.strip().lower()[:3] for d in self.hub_workdays.split(",")}
        return frozenset(_WEEKDAYS.index(d) for d in days if d in _WEEKDAYS)


def parse_networks(text: str) -> tuple[IPv4Network | IPv6Network, ...]:
    """Comma-separated addresses or CIDRs (`10.0.0.0/8, ::1`); ValueError naming a bad one."""
    networks: list[IPv4Network | IPv6Network] = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            networks.append(ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an address or CIDR network") from None
    return tuple(networks)


def _required(env: Mapping[str, str], name: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"{name} is required")
    return value
