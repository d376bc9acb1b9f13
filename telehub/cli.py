"""The `telehub` command: serve, migrate, demo, dev (what `make run` does) and admin tasks."""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import secrets
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from telehub import demo, embedded, mfa
from telehub.app import create_app
from telehub.auth import parse_jwks
from telehub.clients import create_client
from telehub.db import DatabaseNotReady, connect, migrate_url, wait_for_database
from telehub.logging import configure_logging
from telehub.sessions import forget_authenticator
from telehub.settings import ConfigError, Settings
from telehub.users import create_user

Command = Callable[[argparse.Namespace, dict[str, str]], int]


def _database_url(env: Mapping[str, str]) -> str:
    url = env.get("DATABASE_URL", "").strip()
    if not url:
        raise ConfigError("DATABASE_URL is required")
    return url


def _log(settings: Settings) -> None:
    json_logs = settings.log_json if settings.log_json is not None else not sys.stderr.isatty()
    configure_logging(json=json_logs)


async def _settle_garbage_collector(app: web.Application) -> None:
    # Everything built at start-up lives as long as the process: take it out of the
    # collector's sight, and collect the young generation less often. Requests allocate
    # thousands of small objects (a month of slots), and frequent full passes over the
    # start-up heap showed up as latency spikes.
    gc.collect()
    gc.freeze()
    gc.set_threshold(20_000, 20, 20)


def _serve(settings: Settings) -> None:
    # A host booting PostgreSQL and the service together: wait (with backoff, one line per
    # attempt) rather than exit, as long as db_start_timeout allows (0: for ever).
    asyncio.run(wait_for_database(settings.database_url, settings.db_start_timeout))
    asyncio.run(migrate_url(settings.database_url))
    app = create_app(settings)
    app.on_startup.append(_settle_garbage_collector)
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        access_log=None,
        print=None,
        shutdown_timeout=10,
    )


def cmd_serve(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Serve the API and pages (migrating first, under the advisory lock)."""
    overrides: dict[str, Any] = {}
    if args.host:
        overrides["host"] = args.host
    if args.port:
        overrides["port"] = args.port
    settings = Settings.from_env(env, **overrides)
    _log(settings)
    try:
        _serve(settings)
    except DatabaseNotReady as exc:
        print(f"telehub: {exc}", file=sys.stderr)
        return 1
    return 0


def cmd_migrate(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Apply pending migrations."""
    applied = asyncio.run(migrate_url(_database_url(env)))
    print("applied: " + (", ".join(applied) if applied else "nothing (up to date)"))
    return 0


async def _seed(settings: Settings, *, authenticators: bool = True) -> dict[str, Any] | None:
    await migrate_url(settings.database_url)
    conn = await connect(settings.database_url)
    try:
        if not await demo.is_empty(conn):
            return None
        return await demo.seed(conn, settings, authenticators=authenticators)
    finally:
        await conn.close()


def cmd_demo(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Seed the demo network into an empty database and print its logins."""
    # Seeding signs nothing with the secret key, so it need not be configured for this.
    settings = Settings.from_env({"TELEHUB_SECRET_KEY": secrets.token_urlsafe(32), **env})
    # Authenticator keys are sealed with the secret key: only the server's own will do.
    created = asyncio.run(_seed(settings, authenticators="TELEHUB_SECRET_KEY" in env))
    if created is None:
        print("the database already holds a network; demo seeds only an empty one", file=sys.stderr)
        return 1
    print(json.dumps(created, indent=2) if args.json else describe(created, None))
    return 0


def describe(network: Mapping[str, Any], base_url: str | None) -> str:
    """The human summary of a demo network: URLs, web logins, API clients."""
    lines = []
    if base_url:
        lines += [
            f"Telehub is running at {base_url}",
            f"  API description  {base_url}/api/v1/openapi.json",
            f"  Token endpoint   {base_url}/oauth/token",
            f"  Health           {base_url}/healthz   Readiness  {base_url}/readyz",
            "",
        ]
    lines.append("Web logins (email / password):")
    for user in network["hub_users"]:
        lines.append(f"  {user['role']:<18} {user['email']:<44} {user['password']}")
    for person in network["consultants"]:
        for user in person["users"]:
            lines.append(f"  {'consultant':<18} {user['email']:<44} {user['password']}")
    for spoke in network["spokes"]:
        for user in spoke["users"]:
            lines.append(f"  {user['role']:<18} {user['email']:<44} {user['password']}")
    keyed = [u for u in _demo_users(network) if u.get("totp_secret")]
    lines += ["", "Hub staff and consultants also type a six-digit code from an authenticator app."]
    if keyed:
        lines += [
            "Add a key below to one (time-based, 6 digits), or print the current code with",
            "`telehub totp EMAIL` (.venv/bin/telehub after `make run`; each code signs in once):",
        ]
        lines += [f"  {u['email']:<44} {mfa.grouped(u['totp_secret'])}" for u in keyed]
    else:
        lines.append("They set one up (a QR code to scan) the first time they sign in.")
    lines += ["", "Calendar feeds (subscribe in Google, Outlook or Apple Calendar):"]
    for person in network["consultants"]:
        lines.append(f"  {person['name']:<30} {person.get('feed_url', '')}")
    for spoke in network["spokes"]:
        lines.append(f"  {spoke['name']:<30} {spoke.get('feed_url', '')}")
    lines += ["", "API clients (client_id / client_secret):"]
    admin = network["hub_admin"]
    lines.append(f"  {'hub admin':<30} {admin['client_id']}  {admin['client_secret']}")
    for spoke in network["spokes"]:
        lines.append(f"  {spoke['name']:<30} {spoke['client_id']}  {spoke['client_secret']}")
    backend = network.get("fhir_backend")
    if isinstance(backend, dict):
        lines += [
            "",
            "FHIR R4 (SMART Backend Services, private_key_jwt; no secret):",
            f"  {'FHIR base':<30} {backend['fhir_base']}",
            f"  {'EHR client (JWKS)':<30} {backend['client_id']}",
            "  A signed client assertion:    .venv/bin/python -m telehub.demo_fhir assertion",
        ]
    return "\n".join(lines)


def _demo_users(network: Mapping[str, Any]) -> list[dict[str, Any]]:
    users: list[dict[str, Any]] = list(network["hub_users"])
    users += [u for person in network["consultants"] for u in person["users"]]
    users += [u for spoke in network["spokes"] for u in spoke["users"]]
    return users


def cmd_totp(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Print the current sign-in code of a demo user (their key is in var/demo.json)."""
    path = Path(args.file) if args.file else Path(env.get("TELEHUB_VAR", "var")) / "demo.json"
    if not path.exists():
        print(f"telehub: no demo logins in {path}; `make run` writes them", file=sys.stderr)
        return 1
    for user in _demo_users(json.loads(path.read_text())):
        if user["email"] == args.email.strip().lower() and user.get("totp_secret"):
            print(mfa.code_at(user["totp_secret"], mfa.step_of(datetime.now(UTC))))
            return 0
    print(f"telehub: {args.email} is not a demo user with an authenticator", file=sys.stderr)
    return 1


def _secret_key(path: Path) -> str:
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(48))
        path.chmod(0o600)
    return path.read_text().strip()


def cmd_dev(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Run with an embedded PostgreSQL (unless DATABASE_URL is set) and demo data."""
    var = Path(env.get("TELEHUB_VAR", "var")).resolve()
    host = args.host or env.get("TELEHUB_HOST", "127.0.0.1")
    port = args.port or int(env.get("TELEHUB_PORT", "8080"))
    server: embedded.EmbeddedPostgres | None = None
    if not env.get("DATABASE_URL"):
        server = embedded.start(var / "postgres")
        embedded.ensure_database_sync(server.url("postgres"), "telehub")
        env["DATABASE_URL"] = server.url("telehub")
    env.setdefault("TELEHUB_SECRET_KEY", _secret_key(var / "secret_key"))
    env.setdefault("TELEHUB_BASE_URL", f"http://{host}:{port}")
    # The demo's clinics receive webhooks on this machine.
    env.setdefault("TELEHUB_WEBHOOK_ALLOW_PRIVATE", "true")
    settings = Settings.from_env(env, host=host, port=port)
    _log(settings)
    logins = var / "demo.json"
    created = asyncio.run(_seed(settings))
    if created is not None:
        logins.write_text(json.dumps(created, indent=2))
        logins.chmod(0o600)
    if logins.exists():
        banner = describe(json.loads(logins.read_text()), settings.base_url)
    else:
        banner = f"Telehub is running at {settings.base_url} (existing data; no demo logins)"
    print(banner + f"\n\n(demo credentials are kept in {logins}; Ctrl-C stops)\n", flush=True)
    try:
        _serve(settings)
    finally:
        if server is not None:
            server.stop()
    # Ctrl-C ends run_app quietly: say what stopped, once it has.
    if server is None:
        print("\nStopped telehub (the database at DATABASE_URL keeps running)", flush=True)
    else:
        print("\nStopped telehub and the embedded PostgreSQL", flush=True)
    return 0


async def _admin(url: str, work: Callable[[asyncpg.Connection], Any]) -> Any:
    conn = await connect(url)
    try:
        async with conn.transaction():
            return await work(conn)
    finally:
        await conn.close()


async def _spoke_id(conn: asyncpg.Connection, slug: str | None) -> int | None:
    if slug is None:
        return None
    from spokes.store import get_spoke_by_slug

    spoke = await get_spoke_by_slug(conn, slug)
    if spoke is None:
        raise ConfigError(f"no spoke with slug {slug!r}")
    return spoke.id


def cmd_create_client(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Register an API client and print its id and one-time secret."""
    jwks = parse_jwks(Path(args.jwks).read_text()) if args.jwks else None

    async def work(conn: asyncpg.Connection) -> tuple[str, str | None]:
        client, secret = await create_client(
            conn,
            name=args.name,
            kind=args.kind,
            spoke_id=await _spoke_id(conn, args.spoke),
            consultant_id=args.consultant,
            jwks=jwks,
            with_secret=not args.no_secret,
        )
        return client.client_id, secret

    client_id, secret = asyncio.run(_admin(_database_url(env), work))
    print(json.dumps({"client_id": client_id, "client_secret": secret}))
    return 0


def cmd_create_user(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Add a web user; the password comes from TELEHUB_NEW_PASSWORD or is generated."""
    password = env.get("TELEHUB_NEW_PASSWORD") or secrets.token_urlsafe(12)

    async def work(conn: asyncpg.Connection) -> None:
        await create_user(
            conn,
            email=args.email,
            name=args.name,
            role=args.role,
            password=password,
            spoke_id=await _spoke_id(conn, args.spoke),
            consultant_id=args.consultant,
        )

    asyncio.run(_admin(_database_url(env), work))
    if "TELEHUB_NEW_PASSWORD" not in env:
        print(f"password: {password}")
    return 0


def cmd_reset_authenticator(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Forget a user's authenticator and recovery codes (a lost phone, or locked after wrong
    codes) and end their sessions: they set up a new one after their next password."""

    async def work(conn: asyncpg.Connection) -> bool:
        return await forget_authenticator(conn, args.email)

    if not asyncio.run(_admin(_database_url(env), work)):
        print(f"telehub: {args.email} has no authenticator", file=sys.stderr)
        return 1
    print(f"{args.email} is signed out and sets up a new authenticator after their next password")
    return 0


def cmd_create_spoke(args: argparse.Namespace, env: dict[str, str]) -> int:
    """Add a spoke clinic."""
    from spokes import clinics

    async def work(conn: asyncpg.Connection) -> int:
        spoke = await clinics.create(
            conn, slug=args.slug, name=args.name, state=args.state, timezone=args.timezone
        )
        return spoke.id

    print(json.dumps({"id": asyncio.run(_admin(_database_url(env), work))}))
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="telehub", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, func in (("serve", cmd_serve), ("dev", cmd_dev)):
        p = sub.add_parser(name, help=func.__doc__)
        p.add_argument("--host")
        p.add_argument("--port", type=int)
        p.set_defaults(func=func)
    sub.add_parser("migrate", help=cmd_migrate.__doc__).set_defaults(func=cmd_migrate)
    p = sub.add_parser("demo", help=cmd_demo.__doc__)
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    p.set_defaults(func=cmd_demo)
    p = sub.add_parser("create-client", help=cmd_create_client.__doc__)
    p.add_argument("--kind", choices=["hub_admin", "spoke", "consultant"], required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--spoke", help="spoke slug (kind spoke)")
    p.add_argument("--consultant", type=int, help="consultant id (kind consultant)")
    p.add_argument("--jwks", help="file with the client's public JWK Set (private_key_jwt)")
    p.add_argument("--no-secret", action="store_true", help="keys only, no client secret")
    p.set_defaults(func=cmd_create_client)
    p = sub.add_parser("create-user", help=cmd_create_user.__doc__)
    p.add_argument("--email", required=True)
    p.add_argument("--name", required=True)
    p.add_argument(
        "--role",
        required=True,
        choices=[
            "hub_admin",
            "hub_coordinator",
            "consultant",
            "spoke_scheduler",
            "spoke_clinician",
            "care_manager",
        ],
    )
    p.add_argument("--spoke", help="spoke slug")
    p.add_argument("--consultant", type=int, help="consultant id")
    p.set_defaults(func=cmd_create_user)
    p = sub.add_parser("reset-authenticator", help=cmd_reset_authenticator.__doc__)
    p.add_argument("email")
    p.set_defaults(func=cmd_reset_authenticator)
    p = sub.add_parser("totp", help=cmd_totp.__doc__)
    p.add_argument("email")
    p.add_argument("--file", help="the demo's logins (default: var/demo.json)")
    p.set_defaults(func=cmd_totp)
    p = sub.add_parser("create-spoke", help=cmd_create_spoke.__doc__)
    p.add_argument("--slug", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--state", required=True)
    p.add_argument("--timezone", required=True)
    p.set_defaults(func=cmd_create_spoke)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `telehub` command."""
    args = _parser().parse_args(argv)
    env = dict(os.environ)
    # Every command logs to stderr (a command that serves reconfigures from its settings):
    # stdout is the command's answer, which `demo --json` gives to machines.
    configure_logging(json=not sys.stderr.isatty())
    try:
        result: int = args.func(args, env)
    except ConfigError as exc:
        print(f"telehub: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return result


if __name__ == "__main__":
    sys.exit(main())
