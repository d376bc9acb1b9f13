"""Request plumbing shared by API and page handlers: path parameters, the clock, the audit
trail, the unit of work, and encoding an answer."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime

import asyncpg
from aiohttp import web
from pydantic import BaseModel

from telehub.audit import Trail
from telehub.auth import Caller
from telehub.client_address import client_address
from telehub.db import transaction
from telehub.errors import NotFound
from telehub.keys import CLOCK, POOL, REQUEST_ID, SETTINGS


def json_response(model: BaseModel, *, status: int = 200) -> web.Response:
    """Encode an output model as JSON."""
    return web.Response(
        body=model.model_dump_json().encode(), status=status, content_type="application/json"
    )


_DIGITS = re.compile(r"^[0-9]{1,18}$")


def int_param(request: web.Request, name: str) -> int:
    """A numeric path parameter; a malformed one is simply not found."""
    raw = request.match_info[name]
    if not _DIGITS.match(raw):  # str.isdigit() would let '²' through to int()
        raise NotFound(f"no such {name}")
    return int(raw)


def uuid_param(request: web.Request, name: str) -> uuid.UUID:
    """A UUID path parameter; a malformed one is simply not found."""
    try:
        return uuid.UUID(request.match_info[name])
    except ValueError:
        raise NotFound(f"no such {name}") from None


def trail_of(request: web.Request, caller: Caller) -> Trail:
    """The audit trail entry for this request."""
    return Trail(caller.actor, request.get(REQUEST_ID), client_address(request))


def now_of(request: web.Request) -> datetime:
    """The current time, from the app's clock (tests fix it)."""
    return request.app[CLOCK]()


@asynccontextmanager
async def unit_of_work(request: web.Request) -> AsyncIterator[asyncpg.Connection]:
    """One pooled connection in one transaction, for one request's work.

    A database out of reach, too slow, or a deadlock answers 503 with Retry-After (see
    telehub.db.connection); work that should be retried after a deadlock goes through
    telehub.idempotency.idempotent, which runs the whole transaction again.
    """
    settings = request.app[SETTINGS]
    async with transaction(request.app[POOL], settings.db_acquire_timeout) as conn:
        yield conn
