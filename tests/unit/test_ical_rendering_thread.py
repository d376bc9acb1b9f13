"""A feed's events are built and rendered in the renderer's worker thread, not on the loop."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, date, datetime

import icalendar

from scheduling.feed_render import FeedRenderer
from scheduling.ical import FeedEvent


async def test_events_are_built_and_rendered_in_one_worker_thread() -> None:
    renderer = FeedRenderer(1024 * 1024)
    built_in: list[threading.Thread] = []
    moment = datetime(2027, 3, 8, 17, tzinfo=UTC)

    def events() -> list[FeedEvent]:
        built_in.append(threading.current_thread())
        event = FeedEvent(
            "x@telehub",
            "Case review · Clinic",
            "TH-1",
            moment,
            moment,
            "UTC",
            False,
            0,
            moment,
            moment,
        )
        return [event]

    try:
        feeds = await asyncio.gather(
            *(
                renderer.render("Telehub", "UTC", events, (date(2027, 3, 1), date(2027, 4, 1)))
                for _ in range(3)
            )
        )
    finally:
        renderer.close()

    assert len(set(built_in)) == 1 and built_in[0] is not threading.main_thread()
    assert all(len(icalendar.Calendar.from_ical(f).walk("VEVENT")) == 1 for f in feeds)
    assert renderer.cache.used == 0  # closing the renderer drops its memo
