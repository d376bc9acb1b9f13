"""Counting round trips (issue 16): the app on a pool of one connection whose every statement
is logged with asyncpg's query logger (fixtures `one_connection` and `counted` in
tests/http/conftest.py), once it knows the statements: asyncpg reads a statement's types once
per connection, so a test warms it up with one request first."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient


class Sent:
    """Every statement the app's one connection sends."""

    def __init__(self) -> None:
        self.queries: list[str] = []

    def __call__(self, record: asyncpg.connection.LoggedQuery) -> None:
        self.queries.append(record.query)

    def take(self) -> list[str]:
        """The statements sent since the last take."""
        taken, self.queries = self.queries, []
        return taken


def shown(queries: list[str]) -> str:
    """The statements, each on a line's worth, for an assertion's message."""
    return " | ".join(" ".join(q.split())[:70] for q in queries)


@dataclass(frozen=True, slots=True)
class Counted:
    """The whole app on one logged connection: its client, its pool, what it sent."""

    client: TestClient
    pool: asyncpg.Pool
    sent: Sent


def assert_four_with_key(statements: list[str], *, locks: str, writes: str) -> None:
    """BEGIN with the key's claim and the lock (`locks` in its text), one read, the write
    (`writes` in its text) with the kept answer, COMMIT."""
    assert len(statements) == 4, shown(statements)
    assert statements[0].startswith("BEGIN; SELECT idempotency_claim(")
    assert locks in statements[0]
    assert writes in statements[2] and "idempotency_keep" in statements[2]
    assert statements[3] == "COMMIT"


async def assert_replayed_in_three(
    first: ClientResponse, again: ClientResponse, statements: list[str]
) -> None:
    """The same request with the same key: the first answer again, in three round trips."""
    assert again.status == first.status
    assert again.headers["Idempotent-Replayed"] == "true"
    assert await again.text() == await first.text()
    assert len(statements) == 3, shown(statements)
