"""Typed application and request keys: the one place they are declared."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING

import aiohttp
import asyncpg
from aiohttp import web

from scheduling.feed_render import FeedRenderer
from telehub.api_registry import ApiRegistry
from telehub.auth import Caller
from telehub.db import Replica
from telehub.sessions import Session
from telehub.settings import Settings

if TYPE_CHECKING:  # the modules that define these import this one
    from fhir_r4.core import Mounted
    from telehub.middleware import ProblemFaces

Clock = Callable[[], datetime]

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
# The streaming replica for stale-tolerant reads; absent when none is configured.
REPLICA = web.AppKey("replica", Replica)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
API = web.AppKey("api", ApiRegistry)
HTTP = web.AppKey("http", aiohttp.ClientSession)  # outgoing calls: webhooks
FEED_RENDERER = web.AppKey("feed_renderer", FeedRenderer)  # feeds render off the loop
# Path prefixes whose problems another face renders (FHIR: OperationOutcome).
PROBLEM_FACES: web.AppKey[ProblemFaces] = web.AppKey("problem_faces")
FHIR_MOUNTED: web.AppKey[Mounted] = web.AppKey("fhir_mounted")  # what /fhir/r4 serves

REQUEST_ID = web.RequestKey("request_id", str)
CALLER = web.RequestKey("caller", Caller)
SESSION = web.RequestKey("session", Session)  # the signed-in user of a page request
SESSION_HASH = web.RequestKey("session_hash", bytes)
