"""The baseline: a bare aiohttp app whose one handler does one INSERT through an asyncpg pool.

It answers the question "how many write requests per second can this machine serve at all,
with aiohttp and asyncpg against this PostgreSQL?" Telehub's booking throughput is compared
with it. Run as its own process: `python -m bench.baseline` with BENCH_DATABASE_URL,
BENCH_PORT, BENCH_POOL_MIN and BENCH_POOL_MAX in the environment.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from datetime import datetime

import asyncpg
from aiohttp import web

POOL = web.AppKey("pool", asyncpg.Pool)
TABLE = """
CREATE TABLE IF NOT EXISTS bench_baseline (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consultant_id  bigint NOT NULL,
    patient_id     uuid NOT NULL,
    start          timestamptz NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
)
"""


async def book(request: web.Request) -> web.Response:
    """Take the same JSON body as POST /api/v1/bookings and insert one row."""
    body = await request.json()
    row_id = await request.app[POOL].fetchval(
        "INSERT INTO bench_baseline (consultant_id, patient_id, start) "
        "VALUES ($1, $2, $3) RETURNING id",
        int(body["consultant_id"]),
        body["patient_id"],
        datetime.fromisoformat(body["start"]),
    )
    return web.json_response({"id": row_id}, status=201)


async def ready(request: web.Request) -> web.Response:
    """Answers once the pool is up."""
    return web.json_response({"status": "ready"})


def create_app(database_url: str, pool_min: int, pool_max: int) -> web.Application:
    """The baseline app."""

    async def pool(app: web.Application) -> AsyncIterator[None]:
        created = await asyncpg.create_pool(
            database_url,
            min_size=pool_min,
            max_size=pool_max,
            server_settings={"timezone": "UTC", "application_name": "bench-baseline"},
        )
        assert created is not None
        await created.execute(TABLE)
        app[POOL] = created
        yield
        await created.close()

    app = web.Application()
    app.cleanup_ctx.append(pool)
    app.router.add_post("/book", book)
    app.router.add_get("/readyz", ready)
    return app


def main() -> None:
    """Serve on 127.0.0.1:BENCH_PORT."""
    app = create_app(
        os.environ["BENCH_DATABASE_URL"],
        int(os.environ["BENCH_POOL_MIN"]),
        int(os.environ["BENCH_POOL_MAX"]),
    )
    web.run_app(
        app, host="127.0.0.1", port=int(os.environ["BENCH_PORT"]), access_log=None, print=None
    )


if __name__ == "__main__":
    main()
