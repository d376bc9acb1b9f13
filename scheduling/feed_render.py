"""Feeds rendered off the event loop, with their memo held to a byte budget.

Rendering a cold feed of 2,000 events takes a few hundred milliseconds of pure Python
(icalendar builds, escapes and folds every line). On the event loop that stalls every other
request of the process, which is what calendar apps polling cold feeds after a restart did
to every endpoint's p99. The database reads stay on the loop; building the events and the
iCalendar text runs here, in one worker thread: under the GIL more threads would not render
faster, and each extra thread gets its own malloc arena, which only spreads memory around.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import date

from scheduling import ical
from scheduling.feed_cache import ByteLRU
from scheduling.ical import FeedEvent


class FeedRenderer:
    """One process's feed rendering: a worker thread and the rendered-text memo."""

    def __init__(self, cache_bytes: int) -> None:
        self.cache = ByteLRU(cache_bytes)
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="feed-render")

    async def render(
        self,
        name: str,
        zone: str,
        events: Callable[[], Iterable[FeedEvent]],
        window: tuple[date, date],
    ) -> bytes:
        """The whole feed's text: `events` (building them is pure work too) and their
        rendering both run in the worker thread."""

        def job() -> bytes:
            return ical.render_calendar(name, zone, events(), window, self.cache)

        return await asyncio.get_running_loop().run_in_executor(self._executor, job)

    def close(self) -> None:
        """Stop the worker thread (after the render it may be doing) and drop the memo."""
        self._executor.shutdown(wait=True, cancel_futures=True)
        self.cache.clear()
