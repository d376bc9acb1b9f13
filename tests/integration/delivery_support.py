"""What the delivery worker's integration tests share: a bounded wait, and clinics' receivers."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg
from aiohttp import web
from pytest_aiohttp import AiohttpServer
from standardwebhooks.webhooks import Webhook as Verifier

from consults.delivery import deliver_due, new_webhook_secret
from consults.webhook_address import webhook_connector
from spokes import store as spokes_store
from telehub.settings import Settings
from tests.webhook_fakes import FakeResolver

# A bound so that a broken worker fails the test instead of hanging it; the waits end as soon
# as their condition holds, far sooner than this on any machine.
PATIENCE = 30.0


async def until(check: Callable[[], Any]) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; return that."""
    deadline = time.monotonic() + PATIENCE
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        assert time.monotonic() < deadline, f"still {value!r} after {PATIENCE} s"
        await asyncio.sleep(0.02)


@dataclass
class ClinicReceivers:
    """A loopback receiver taking each clinic's webhooks at /clinic/{spoke}, as a clinic's
    system would, with what each clinic received and the secret it verifies signatures with."""

    received: dict[int, list[tuple[dict[str, str], str]]]
    secrets: dict[int, str]

    def event_of(self, spoke_id: int) -> dict[str, Any]:
        """The one event a clinic received, its signature verified with the clinic's secret."""
        [(headers, body)] = self.received[spoke_id]
        event: dict[str, Any] = Verifier(self.secrets[spoke_id]).verify(body, headers)
        return event


async def clinic_receivers(
    conn: asyncpg.Connection, aiohttp_server: AiohttpServer, spoke_ids: list[int]
) -> ClinicReceivers:
    """Give each clinic a webhook (full payloads) at one loopback receiver named `receiver`."""
    received: dict[int, list[tuple[dict[str, str], str]]] = {s: [] for s in spoke_ids}

    async def hook(request: web.Request) -> web.Response:
        received[int(request.match_info["spoke"])].append(
            (dict(request.headers), await request.text())
        )
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/clinic/{spoke}", hook)
    receiver = await aiohttp_server(app, host="127.0.0.1")
    secrets: dict[int, str] = {}
    for spoke_id in spoke_ids:
        secrets[spoke_id] = new_webhook_secret()
        await spokes_store.set_webhook(
            conn,
            spoke_id,
            url=f"http://receiver:{receiver.port}/clinic/{spoke_id}",
            secret=secrets[spoke_id],
            full_payload=True,
        )
    return ClinicReceivers(received, secrets)


async def deliver_to_receivers(pool: asyncpg.Pool, settings: Settings) -> int:
    """Run the delivery worker's one pass, `receiver` resolving to loopback; how many it sent."""
    dns = FakeResolver({"receiver": ["127.0.0.1"]})
    async with aiohttp.ClientSession(
        connector=webhook_connector(allow_private=True, resolver=dns)
    ) as session:
        return await deliver_due(pool, session, settings)
