"""Counting round trips (issue 16): the app on a pool of one connection whose every statement
is logged with asyncpg's query logger (fixtures `one_connection` and `counted` in
tests/http/conftest.py), once it knows the statements: asyncpg reads a statement's types once
per connection, so a test warms it up with one request first."""

from __future__ import annotations

from dataclasses import dataclass

import asyncpg
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
