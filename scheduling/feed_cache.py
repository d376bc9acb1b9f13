"""A least-recently-used cache bounded by bytes, not by entries, safe across threads.

Feeds keep rendered iCalendar text in memory so that a poll after one change renders one
event, not two thousand. An entry-count bound (the old `lru_cache(maxsize=50_000)`) let that
memo grow to some 75-90 MB, half of it the keys: each event's facts (its description, the
video link three times, four datetimes) kept alive next to the text rendered from them, and
most entries were old versions of changed events, never asked for again. Here every entry is
charged for its key, its value and the bookkeeping, and the least recently used go once the
total passes the budget, so a small deployment can say what the memo may cost.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable
from dataclasses import fields, is_dataclass

# What an entry costs beyond its key and value: the OrderedDict's hash-table slot and
# ordering link (about 100 bytes, measured with tracemalloc on CPython 3.11), and the
# (value, cost) pair kept for it.
ENTRY_OVERHEAD = 112 + sys.getsizeof((b"", 0)) + sys.getsizeof(1 << 20)


def footprint(value: object) -> int:
    """Bytes that `value` keeps alive: the object, and its fields if it is a dataclass or a
    tuple (one level down, which is all that feed keys and values hold)."""
    size = sys.getsizeof(value)
    if is_dataclass(value) and not isinstance(value, type):
        return size + sum(sys.getsizeof(getattr(value, f.name)) for f in fields(value))
    if isinstance(value, tuple):
        return size + sum(sys.getsizeof(item) for item in value)
    return size


class ByteLRU:
    """Hashable keys to bytes, at most `budget` bytes in all (keys and overhead counted)."""

    def __init__(self, budget: int) -> None:
        if budget < 0:
            raise ValueError("a cache budget cannot be negative")
        self.budget = budget
        self._entries: OrderedDict[Hashable, tuple[bytes, int]] = OrderedDict()
        self._bytes = 0
        self._lock = threading.Lock()  # rendering runs in worker threads
        self.hits = 0
        self.misses = 0

    @property
    def used(self) -> int:
        """What the entries cost now, by the same reckoning as the budget."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: Hashable) -> bytes | None:
        """The value, now the most recently used; None if absent."""
        with self._lock:
            found = self._entries.get(key)
            if found is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return found[0]

    def put(self, key: Hashable, value: bytes) -> None:
        """Keep `value`, dropping the least recently used entries to stay within budget."""
        cost = footprint(key) + sys.getsizeof(value) + ENTRY_OVERHEAD
        with self._lock:
            old = self._entries.pop(key, None)
            if old is not None:
                self._bytes -= old[1]
            if cost > self.budget:
                return  # larger than the whole budget: never kept
            while self._bytes + cost > self.budget:
                _, (_, freed) = self._entries.popitem(last=False)
                self._bytes -= freed
            self._entries[key] = (value, cost)
            self._bytes += cost

    def clear(self) -> None:
        """Drop every entry."""
        with self._lock:
            self._entries.clear()
            self._bytes = 0
