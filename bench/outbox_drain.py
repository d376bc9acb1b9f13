"""Outbox drain: N queued webhook events to a loopback receiver that answers at once.

Every spoke's webhook points at a receiver in the bench process (aiohttp, `204` at once,
counting each `webhook-id` and the spoke it came for). With 1, then 2, `telehub serve`
processes running and idle (webhooks set, outbox empty), N events are queued in one
statement across the spokes; its commit wakes every process's delivery worker (the outbox
trigger's NOTIFY). The time is from that commit until the last outbox row is marked
delivered (its `delivered_at`, same host clock). Each run starts from an empty outbox.

Checked, and a failure fails the run: every event reached the receiver exactly once, at
its own spoke's URL, and every row is delivered after a single attempt.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import asyncpg
from aiohttp import web

from bench import database
from bench.config import Sizes
from bench.machine import CpuMeter, wait_quiet
from bench.network import Network
from bench.run import _ready, _roles, say, seed
from bench.servers import TELEHUB, Server, _spawn, free_port, telehub_env

HOST = "127.0.0.1"
SECRET = "whsec_" + "YmVuY2gtd2ViaG9vay1zZWNyZXQtMzItYnl0ZXMhIQ=="  # 32 bytes, base64
EVENT = "slot.opened"

# N events of the shape the waitlist queues (scheduling.waitlist.slot_event), spread over
# the spokes; webhook-ids name the run and the event's number.
QUEUE = """
INSERT INTO outbox (webhook_id, spoke_id, event_type, payload)
SELECT $1::text || g, s, $4::text,
       jsonb_build_object(
           'type', $4::text, 'timestamp', to_char(now() AT TIME ZONE 'UTC',
                                                  'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
           'data', jsonb_build_object(
               'waitlist_id', gen_random_uuid(), 'spoke_id', s, 'patient_id', NULL,
               'slot', jsonb_build_object(
                   'service_id', 1, 'consultant_id', 1 + g % 50,
                   'start', '2030-01-07T14:00:00Z', 'end', '2030-01-07T14:30:00Z')))
FROM generate_series(0, $3::int - 1) AS g,
     LATERAL (SELECT ($2::bigint[])[1 + g % cardinality($2::bigint[])] AS s) AS spoke
"""

OUTCOME = """
SELECT count(*) AS queued,
       count(*) FILTER (WHERE delivered_at IS NULL) AS undelivered,
       count(*) FILTER (WHERE attempts <> 1) AS attempts_not_one,
       max(delivered_at) AS last_delivered
FROM outbox WHERE webhook_id LIKE $1 || '%'
"""


@dataclass
class Receiver:
    """The loopback webhook endpoint: counts every delivery by webhook-id and spoke."""

    expected: int = 0
    seen: Counter[str] = field(default_factory=Counter)
    spoke_of: dict[str, int] = field(default_factory=dict)
    misdirected: int = 0
    done: asyncio.Event = field(default_factory=asyncio.Event)

    def expect(self, count: int) -> None:
        """Start counting a new run of `count` events."""
        self.expected = count
        self.seen.clear()
        self.spoke_of.clear()
        self.misdirected = 0
        self.done.clear()

    async def handle(self, request: web.Request) -> web.Response:
        """Note the delivery, answer at once."""
        body = await request.json()
        webhook_id = request.headers.get("webhook-id", "")
        self.seen[webhook_id] += 1
        if body["data"]["spoke_id"] != int(request.match_info["spoke"]):
            self.misdirected += 1
        if len(self.seen) >= self.expected:
            self.done.set()
        return web.Response(status=204)


async def _start_receiver(receiver: Receiver) -> tuple[web.AppRunner, int]:
    app = web.Application()
    app.router.add_post("/hook/{spoke}", receiver.handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, HOST, port).start()
    return runner, port


def _start_servers(count: int, database_url: str, logs: Path) -> list[Server]:
    servers = []
    for index in range(count):
        port = free_port()
        env = {**telehub_env(database_url, port), "TELEHUB_WEBHOOK_ALLOW_PRIVATE": "true"}
        name = f"telehub-drain-{count}-{index + 1}"
        servers.append(_spawn(name, [TELEHUB, "serve"], env, logs / f"{name}.log", port))
    return servers


async def _point_webhooks(conn: asyncpg.Connection, network: Network, port: int) -> None:
    for spoke in network.spokes:
        await conn.execute(
            "UPDATE spokes SET webhook_url = $2, webhook_secret = $3 WHERE id = $1",
            spoke.id,
            f"http://{HOST}:{port}/hook/{spoke.id}",
            SECRET,
        )


async def _until_marked(conn: asyncpg.Connection, prefix: str) -> None:
    """Until every row of the run is marked delivered (just after its POST was answered)."""
    while True:
        row = await conn.fetchrow(OUTCOME, prefix)
        if row is None or not row["undelivered"]:
            return
        await asyncio.sleep(0.05)


async def _drain(
    conn: asyncpg.Connection,
    receiver: Receiver,
    servers: list[Server],
    db: database.Database,
    network: Network,
    events: int,
    quiet_wait_s: float,
) -> dict[str, Any]:
    """Queue `events` with `servers` running and idle; wait until all are delivered."""
    prefix = f"msg_drain_{len(servers)}_"
    receiver.expect(events)
    await conn.execute("DELETE FROM outbox")
    await conn.execute("VACUUM ANALYZE outbox")
    busy_before = await wait_quiet(quiet_wait_s)
    meter = CpuMeter(_roles(servers, db))
    meter.start()
    began = time.perf_counter()
    await conn.execute(QUEUE, prefix, [s.id for s in network.spokes], events, EVENT)
    committed = datetime.now(UTC)
    try:
        async with asyncio.timeout(120 + events / 20):
            await receiver.done.wait()
            await _until_marked(conn, prefix)
    except TimeoutError:
        say(f"   outbox drain: not every event delivered within {120 + events / 20:g} s")
    window = time.perf_counter() - began
    used = meter.stop()
    row = await conn.fetchrow(OUTCOME, prefix)
    assert row is not None
    last = row["last_delivered"]
    seconds = (last - committed).total_seconds() if last is not None else window
    expected = {f"{prefix}{g}" for g in range(events)}
    seen = set(receiver.seen)
    twice = sum(n - 1 for n in receiver.seen.values() if n > 1)
    ok = (
        row["queued"] == events
        and row["undelivered"] == 0
        and row["attempts_not_one"] == 0
        and seen == expected
        and twice == 0
        and receiver.misdirected == 0
    )
    return {
        "processes": len(servers),
        "events": events,
        "seconds": round(seconds, 3),
        "events_per_s": round(events / seconds, 1) if seconds > 0 else 0.0,
        "server_cpu_ms_per_event": round(used.get("server", 0.0) * window / events * 1000, 3),
        "postgres_cpu_ms_per_event": round(used.get("postgres", 0.0) * window / events * 1000, 3),
        "receiver_cpu_ms_per_event": round(used.get("load", 0.0) * window / events * 1000, 3),
        "other_cores": used.get("other"),
        "machine_busy_before": busy_before,
        "received": sum(receiver.seen.values()),
        "lost": len(expected - seen),
        "delivered_twice": twice,
        "unexpected": len(seen - expected),
        "misdirected": receiver.misdirected,
        "undelivered_rows": row["undelivered"],
        "rows_with_more_than_one_attempt": row["attempts_not_one"],
        "exactly_once": ok,
    }


async def drain_points(
    admin_url: str,
    data_dir: Path | None,
    events: int,
    process_counts: tuple[int, ...],
    base_sizes: Sizes,
    logs: Path,
) -> list[dict[str, Any]]:
    """One point per process count, on one fresh database whose spokes all point at the
    receiver."""
    db = await database.create(admin_url, data_dir)
    receiver = Receiver()
    runner, port = await _start_receiver(receiver)
    conn: asyncpg.Connection | None = None
    try:
        network, _ = await seed(db, replace(base_sizes, consultants=4), datetime.now(UTC))
        conn = await asyncpg.connect(db.url)
        await _point_webhooks(conn, network, port)
        points = []
        for count in process_counts:
            say(f"   outbox drain: {events:,} events, {count} process(es)")
            servers = _start_servers(count, db.url, logs)
            try:
                await _ready(*servers)
                points.append(
                    await _drain(
                        conn, receiver, servers, db, network, events, base_sizes.quiet_wait_s
                    )
                )
            finally:
                for server in servers:
                    server.stop()
        return points
    finally:
        if conn is not None:
            await conn.close()
        await runner.cleanup()
        await database.drop(db)
