"""API clients (OAuth2 client credentials) and the client-assertion replay guard."""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import asyncpg

from telehub.auth import KIND_SCOPES, CallerKind, hash_secret, new_client_secret

_COLUMNS = "id, client_id, name, kind, spoke_id, consultant_id, secret_hash, jwks, scopes, active"


class ScopesNotForKind(ValueError):
    """Scopes asked for a client whose kind can never use them."""


@dataclass(frozen=True, slots=True)
class ApiClient:
    """A registered system that may ask for access tokens."""

    id: int
    client_id: str
    name: str
    kind: CallerKind
    spoke_id: int | None
    consultant_id: int | None
    secret_hash: bytes | None
    jwks: dict[str, Any] | None
    scopes: frozenset[str]
    active: bool


def _client(row: asyncpg.Record) -> ApiClient:
    values = dict(row)
    values["scopes"] = frozenset(values["scopes"])
    return ApiClient(**values)


async def get_client(conn: asyncpg.Connection, client_id: str) -> ApiClient | None:
    """The client with this client id, active or not."""
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM api_clients WHERE client_id = $1", client_id)
    return _client(row) if row else None


async def create_client(
    conn: asyncpg.Connection,
    *,
    name: str,
    kind: CallerKind,
    spoke_id: int | None = None,
    consultant_id: int | None = None,
    jwks: dict[str, Any] | None = None,
    with_secret: bool = True,
    scopes: Iterable[str] | None = None,
) -> tuple[ApiClient, str | None]:
    """Register a client with the given scopes (by default every scope its kind can use);
    return it and its one-time secret. ScopesNotForKind for a scope the kind cannot use."""
    granted = KIND_SCOPES[kind] if scopes is None else frozenset(scopes)
    if granted - KIND_SCOPES[kind]:
        unusable = " ".join(sorted(granted - KIND_SCOPES[kind]))
        raise ScopesNotForKind(f"a {kind} client cannot use these scopes: {unusable}")
    secret = new_client_secret() if with_secret else None
    row = await conn.fetchrow(
        f"""
        INSERT INTO api_clients (client_id, name, kind, spoke_id, consultant_id, secret_hash,
                                 jwks, scopes)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        RETURNING {_COLUMNS}
        """,
        "th_" + secrets.token_hex(10),
        name,
        kind,
        spoke_id,
        consultant_id,
        hash_secret(secret) if secret else None,
        jwks,
        sorted(granted),
    )
    assert row is not None
    return _client(row), secret


async def revoke_client(conn: asyncpg.Connection, client_id: str) -> bool:
    """Stop a client from getting new tokens; True if it existed."""
    done = await conn.execute(
        "UPDATE api_clients SET active = false WHERE client_id = $1", client_id
    )
    return done != "UPDATE 0"


async def first_use_of_assertion(
    conn: asyncpg.Connection, client_id: str, jti: str, expires_at: float
) -> bool:
    """Record a client assertion's jti; False if it was seen before (a replay)."""
    await conn.execute("DELETE FROM oauth_assertions_seen WHERE expires_at < now()")
    inserted = await conn.fetchval(
        """
        INSERT INTO oauth_assertions_seen (client_id, jti, expires_at) VALUES ($1, $2, $3)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        client_id,
        jti,
        datetime.fromtimestamp(expires_at, UTC),
    )
    return bool(inserted)


async def list_clients(conn: asyncpg.Connection) -> list[ApiClient]:
    """Every client, active or not, by name."""
    rows = await conn.fetch(f"SELECT {_COLUMNS} FROM api_clients ORDER BY name, id")
    return [_client(r) for r in rows]
