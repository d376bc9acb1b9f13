"""Stopping background tasks for certain."""

from __future__ import annotations

import asyncio
import contextlib


async def stop(task: asyncio.Task[object]) -> None:
    """Cancel `task` and wait until it has ended, cancelling again while it runs on.

    On Python 3.11, `asyncio.wait_for` (asyncpg's connect uses it) can swallow a cancellation
    that arrives just as what it waits for completes; the task then runs on, and a shutdown
    that awaits it once would wait for ever (seen as a test teardown that never ended).
    """
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    with contextlib.suppress(asyncio.CancelledError):
        task.result()
