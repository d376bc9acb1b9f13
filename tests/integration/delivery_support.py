"""A bounded wait that the delivery worker's integration tests share."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from typing import Any

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
