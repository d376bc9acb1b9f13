"""The app factory: the one place the application is put together."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import aiohttp_jinja2
import jinja2
from aiohttp import web

from care.api import api as registry_api
from care.billing_api import api as billing_api
from care.review_api import api as review_api
from consults.api import api as consults_api
from consults.delivery import CLAIM_BATCH, run_worker
from consults.delivery_api import api as delivery_api
from consults.disclosure_api import api as disclosure_api
from consults.notes_api import api as notes_api
from consults.webhook_address import webhook_connector
from fhir_r4 import routes as fhir_routes
from hub import coordinator as coordinator_pages
from hub import feeds as hub_feeds
from hub import pages as consultant_pages
from hub.api import api as hub_api
from scheduling.api import api as scheduling_api
from scheduling.attendance_api import api as attendance_api
from scheduling.feeds_web import feed_rendering
from scheduling.group_seats_api import api as group_seats_api
from scheduling.groups_api import api as groups_api
from scheduling.holds_api import api as holds_api
from scheduling.series_api import api as series_api
from scheduling.waitlist_api import api as waitlist_api
from spokes import feeds as spoke_feeds
from spokes import pages as spoke_pages
from spokes.api import api as spokes_api
from spokes.care_api import api as care_api
from spokes.consent_api import api as consent_api
from telehub import discovery, health, housekeeping, oauth
from telehub.api import ApiRoutes
from telehub.api_registry import ApiRegistry
from telehub.db import Pool, Replica, create_pool, create_replica_pool
from telehub.forms import field_label
from telehub.keys import API, CLOCK, HTTP, POOL, REPLICA, SETTINGS, Clock
from telehub.labels import label
from telehub.mfa_pages import routes as signin_steps
from telehub.middleware import (
    problems,
    refuse_control_characters,
    request_log,
    security_headers,
)
from telehub.settings import Settings
from telehub.signin_pages import routes as signin_pages
from telehub.tasks import stop
from telehub.web import local_time, web_sessions, zone_name

ROOT = Path(__file__).resolve().parent.parent
# Each page package mounts its own route tables.
PAGES: tuple[Callable[[web.Application], None], ...] = (
    spoke_pages.setup,
    consultant_pages.setup,
    coordinator_pages.setup,
)
API_PACKAGES: tuple[ApiRoutes, ...] = (
    hub_api,
    scheduling_api,
    series_api,
    group_seats_api,
    groups_api,
    attendance_api,
    waitlist_api,
    holds_api,
    spokes_api,
    care_api,
    consent_api,
    registry_api,
    billing_api,
    review_api,
    consults_api,
    notes_api,
    delivery_api,
    disclosure_api,
    hub_feeds.api,
    spoke_feeds.api,
)


def _utc_now() -> datetime:
    return datetime.now(UTC)


def create_app(
    settings: Settings, *, pool: Pool | None = None, clock: Clock = _utc_now
) -> web.Application:
    """Build the application; an injected pool (tests) is used as is and not closed."""
    app = web.Application(
        middlewares=[request_log, problems, refuse_control_characters, web_sessions],
        client_max_size=settings.max_body_bytes,
    )
    app.on_response_prepare.append(security_headers)
    app[SETTINGS] = settings
    app[CLOCK] = clock
    if pool is None:
        app.cleanup_ctx.append(_pool)
    else:
        app[POOL] = pool
    if settings.database_replica_url is not None:
        app.cleanup_ctx.append(_replica)
    app.cleanup_ctx.append(_http_client)
    app.cleanup_ctx.append(feed_rendering)
    if settings.delivery_workers:
        app.cleanup_ctx.append(_delivery_worker)
        app.cleanup_ctx.append(_housekeeping)

    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(ROOT / "templates"),
        autoescape=jinja2.select_autoescape(default=True),
        undefined=jinja2.StrictUndefined,  # a missing variable is a bug, not a blank
    )
    env.filters["local"] = local_time
    env.filters["label"] = label
    env.filters["zone"] = zone_name
    env.filters["field_label"] = field_label
    registry = ApiRegistry()
    for package in API_PACKAGES:
        app.router.add_routes(package.routes)
        registry.operations.extend(package.operations)
    app[API] = registry
    app.router.add_routes(hub_feeds.routes)
    app.router.add_routes(spoke_feeds.routes)
    app.router.add_routes(signin_pages)
    app.router.add_routes(signin_steps)
    for mount in PAGES:
        mount(app)
    app.router.add_routes(oauth.routes)
    app.router.add_routes(discovery.routes)
    fhir_routes.setup(app)
    app.router.add_routes(health.routes)
    app.router.add_static("/static", ROOT / "static", name="static")
    return app


async def _pool(app: web.Application) -> AsyncIterator[None]:
    app[POOL] = await create_pool(app[SETTINGS])
    yield
    await app[POOL].close()


async def _replica(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS]
    replica = Replica(await create_replica_pool(settings), settings.replica_max_lag_seconds)
    app[REPLICA] = replica
    yield
    await replica.pool.close()


async def _http_client(app: web.Application) -> AsyncIterator[None]:
    async with aiohttp.ClientSession(
        # As many per host as a worker claims at once: a claimed event never queues for a
        # connection (its timeout would run while it waited, and count as a failure).
        connector=webhook_connector(
            allow_private=app[SETTINGS].webhook_allow_private, limit=100, limit_per_host=CLAIM_BATCH
        )
    ) as session:
        app[HTTP] = session
        yield


async def _housekeeping(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(housekeeping.run(app[POOL], app[SETTINGS]), name="housekeeping")
    yield
    await stop(task)


async def _delivery_worker(app: web.Application) -> AsyncIterator[None]:
    task = asyncio.create_task(
        run_worker(app[POOL], app[HTTP], app[SETTINGS]),
        name="webhook-delivery",
    )
    yield
    await stop(task)
