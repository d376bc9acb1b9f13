"""People who sign in to the web pages: hub staff, consultants, clinic staff."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from telehub.auth import KIND_SCOPES, Caller, CallerKind, hash_password


@dataclass(frozen=True, slots=True)
class User:
    """A person with a web sign-in."""

    id: int
    email: str
    name: str
    role: str
    spoke_id: int | None
    consultant_id: int | None

    @property
    def caller(self) -> Caller:
        """The user as a caller of the domain: the same rules as the API's clients."""
        kind: CallerKind = (
            "spoke"
            if self.spoke_id is not None
            else "consultant"
            if self.consultant_id is not None
            else "hub_admin"
        )
        return Caller(
            kind,
            f"user-{self.id}",
            KIND_SCOPES[kind],
            self.spoke_id,
            self.consultant_id,
            user_id=self.id,
        )

    @property
    def home(self) -> str:
        """The route name of the page this user lands on after signing in."""
        if self.spoke_id is not None:
            return "spoke_dashboard"
        return "hub_week" if self.consultant_id is not None else "coordinator_dashboard"


async def create_user(
    conn: asyncpg.Connection,
    *,
    email: str,
    name: str,
    role: str,
    password: str,
    spoke_id: int | None = None,
    consultant_id: int | None = None,
) -> User:
    """Add a user with an argon2 hash of their password."""
    row = await conn.fetchrow(
        """
        INSERT INTO users (email, name, role, password_hash, spoke_id, consultant_id)
        VALUES ($1, $2, $3, $4, $5, $6)
        RETURNING id, email, name, role, spoke_id, consultant_id
        """,
        email.lower(),
        name,
        role,
        hash_password(password),
        spoke_id,
        consultant_id,
    )
    assert row is not None
    return User(**dict(row))


async def name_of_actor(conn: asyncpg.Connection, actor: str) -> str | None:
    """The name of the person an audit actor ("user:7") is; None for an API client."""
    kind, _, user_id = actor.partition(":")
    if kind != "user" or not user_id.isdigit():
        return None
    name: str | None = await conn.fetchval("SELECT name FROM users WHERE id = $1", int(user_id))
    return name


async def get_user(conn: asyncpg.Connection, user_id: int) -> User | None:
    """One user by id."""
    row = await conn.fetchrow(
        "SELECT id, email, name, role, spoke_id, consultant_id FROM users WHERE id = $1",
        user_id,
    )
    return User(**dict(row)) if row else None


async def users_by_id(conn: asyncpg.Connection, ids: Sequence[int]) -> dict[int, User]:
    """Users by id (for naming care managers and authors on a page); missing ids are left out."""
    rows = await conn.fetch(
        """
        SELECT id, email, name, role, spoke_id, consultant_id FROM users
        WHERE id = ANY ($1::bigint[])
        """,
        list(ids),
    )
    return {r["id"]: User(**dict(r)) for r in rows}


async def care_managers_of(conn: asyncpg.Connection, spoke_id: int) -> list[User]:
    """A clinic's care managers, by name (who may follow an episode of care)."""
    rows = await conn.fetch(
        """
        SELECT id, email, name, role, spoke_id, consultant_id FROM users
        WHERE spoke_id = $1 AND role = 'care_manager'
        ORDER BY name, id
        """,
        spoke_id,
    )
    return [User(**dict(r)) for r in rows]
