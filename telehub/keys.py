"""Typed application and request keys: the one place they are declared."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import aiohttp
import asyncpg
from aiohttp import web

from scheduling.feed_render import FeedRenderer
from telehub.api_registry import ApiRegistry
from telehub.auth import Caller
from telehub.sessions import Session
from telehub.settings import Settings

Clock = Callable[[], datetime]

SETTINGS = web.AppKey("settings", Settings)
POOL = web.AppKey("pool", asyncpg.Pool)
CLOCK: web.AppKey[Clock] = web.AppKey("clock")
API = web.AppKey("api", ApiRegistry)
HTTP = web.AppKey("http", aiohttp.ClientSession)  # outgoing calls: webhooks
FEED_RENDERER = web.AppKey("feed_renderer", FeedRenderer)  # feeds render off the loop

REQUEST_ID = web.RequestKey("request_id", str)
CALLER = web.RequestKey("caller", Caller)
SESSION = web.RequestKey("session", Session)  # the signed-in user of a page request
SESSION_HASH = web.RequestKey("session_hash", bytes)
