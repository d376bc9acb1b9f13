"""The rendered-feed memo is bounded by bytes: whatever is rendered, it never holds more than
its budget, counting the keys it keeps alive, and what it counts is what it really holds."""

from __future__ import annotations

import gc
import random
import tracemalloc
from datetime import UTC, date, datetime, timedelta

import pytest

from scheduling.feed_cache import ByteLRU
from scheduling.ical import FeedEvent, render_calendar

WINDOW = (date(2027, 2, 1), date(2027, 9, 1))


def _events(feed: int, count: int, version: int) -> list[FeedEvent]:
    first = datetime(2027, 3, 1, 17, tzinfo=UTC)
    events = []
    for n in range(count):
        start = first + timedelta(hours=5 * n)
        link = f"https://video.telehub.example/room/{feed:04d}-{n:04d}-{version:04d}"
        events.append(
            FeedEvent(
                uid=f"{feed:08d}-{n:04d}@telehub",
                summary=f"Video session · Clinic {feed}",
                description=f"Telehub booking TH-{n:06d}\nJoin the video call: {link}",
                start=start,
                end=start + timedelta(hours=1),
                zone=random.Random(feed).choice(["America/New_York", "America/Denver"]),
                cancelled=False,
                sequence=version,
                created=first,
                last_modified=first + timedelta(seconds=version),
                location=link,
                url=link,
            )
        )
    return events


def test_the_cache_never_holds_more_than_its_budget() -> None:
    cache = ByteLRU(64 * 1024)
    rng = random.Random(7)
    for n in range(5_000):
        cache.put(("key", n), bytes(rng.randrange(0, 3_000)))
        if n % 3:
            cache.get(("key", rng.randrange(n + 1)))
        assert 0 <= cache.used <= cache.budget
    assert len(cache) > 10


def test_the_least_recently_used_entry_goes_first() -> None:
    cache = ByteLRU(4 * 1024)
    for n in range(3):
        cache.put(n, bytes(1_000))
    assert cache.get(0) is not None  # 0 is now the most recently used; 1 the least
    cache.put(3, bytes(1_000))
    assert cache.get(1) is None
    assert cache.get(0) is not None and cache.get(2) is not None and cache.get(3) is not None


def test_a_value_larger_than_the_budget_is_not_kept_and_a_replaced_one_is_not_counted_twice() -> (
    None
):
    cache = ByteLRU(2_000)
    cache.put("big", bytes(5_000))
    assert cache.get("big") is None and cache.used == 0
    cache.put("small", bytes(100))
    counted = cache.used
    cache.put("small", bytes(100))
    assert cache.used == counted and len(cache) == 1


def test_a_negative_budget_is_refused() -> None:
    with pytest.raises(ValueError):
        ByteLRU(-1)


def test_rendering_many_feeds_keeps_the_memo_within_budget() -> None:
    cache = ByteLRU(256 * 1024)
    rendered = 0
    for version in range(3):
        for feed in range(20):
            rendered += len(
                render_calendar("Telehub", "UTC", _events(feed, 40, version), WINDOW, cache)
            )
            assert cache.used <= cache.budget
    assert rendered > 4 * cache.budget  # far more text went through than the memo may keep


def test_what_the_memo_counts_covers_what_it_really_holds() -> None:
    """The budget is real memory: clearing the memo frees no more than it counted."""
    cache = ByteLRU(4 * 1024 * 1024)
    gc.collect()
    tracemalloc.start()
    try:
        for feed in range(30):
            render_calendar("Telehub", "UTC", _events(feed, 50, 0), WINDOW, cache)
        gc.collect()
        full = tracemalloc.get_traced_memory()[0]
        counted = cache.used
        cache.clear()
        gc.collect()
        held = full - tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()

    # 1,500 events of about 0.8 KB each are held, and the count is not below what they cost.
    assert 30 * 50 * 500 < held <= counted <= cache.budget
