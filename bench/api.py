"""The requests the bench sends, and the pool of open slots bookings are drawn from."""

from __future__ import annotations

import json
import random
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from urllib.parse import urlencode

from bench.config import SEARCH_STATE
from bench.http import Connection
from bench.load import HOST, Request
from bench.network import Network


@dataclass(frozen=True, slots=True)
class OpenSlot:
    """A slot the API offered."""

    consultant_id: int
    start: str


def utc_text(value: datetime) -> str:
    """RFC 3339 in UTC with a Z."""
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def bearer(token: str) -> dict[str, str]:
    """An Authorization header."""
    return {"Authorization": f"Bearer {token}"}


def slots_target(service_id: int, start: datetime, end: datetime, state: str) -> str:
    """GET /api/v1/slots for one service across all consultants."""
    query = urlencode(
        {
            "service_id": service_id,
            "start": utc_text(start),
            "end": utc_text(end),
            "patient_state": state,
        }
    )
    return f"/api/v1/slots?{query}"


async def fetch_open_slots(
    port: int, network: Network, start: datetime, end: datetime
) -> list[OpenSlot]:
    """Every open slot of the searched service in [start, end), as a client finds them."""
    conn = Connection(HOST, port)
    try:
        target = slots_target(network.search_service.id, start, end, SEARCH_STATE)
        answer = await conn.request("GET", target, bearer(network.hub_token))
    finally:
        conn.close()
    if answer.status != 200:
        raise RuntimeError(f"slot search answered {answer.status}: {answer.body[:500]!r}")
    return [OpenSlot(s["consultant_id"], s["start"]) for s in answer.json()["slots"]]


class SlotPool:
    """Open slots handed out once each, in a shuffled order."""

    def __init__(self, slots: list[OpenSlot], rng: random.Random) -> None:
        self._slots = list(slots)
        rng.shuffle(self._slots)
        self._next = 0

    def __len__(self) -> int:
        return len(self._slots) - self._next

    def take(self) -> OpenSlot | None:
        """The next unused slot, or None when none is left."""
        if self._next >= len(self._slots):
            return None
        self._next += 1
        return self._slots[self._next - 1]

    def take_many(self, n: int) -> list[OpenSlot]:
        """n unused slots (fewer if the pool runs dry)."""
        taken = self._slots[self._next : self._next + n]
        self._next += len(taken)
        return taken

    def split(self, n: int, rng: random.Random) -> SlotPool:
        """A new pool of n of these slots (they leave this one)."""
        return SlotPool(self.take_many(n), rng)

    def peek_all(self) -> list[OpenSlot]:
        """The remaining slots, without using them."""
        return self._slots[self._next :]


def booking(network: Network, slot: OpenSlot, rng: random.Random, target: str) -> Request:
    """POST a booking of `slot` for a patient of a clinic where the consultant is licensed."""
    states = network.licensed(slot.consultant_id)
    spoke = network.spoke_for(states, rng)
    body = {
        "service_id": network.search_service.id,
        "consultant_id": slot.consultant_id,
        "patient_id": rng.choice(spoke.patients),
        "start": slot.start,
    }
    headers = {
        **bearer(spoke.token),
        "Idempotency-Key": uuid.uuid4().hex,
        "Content-Type": "application/json",
    }
    return Request("POST", target, headers, json.dumps(body).encode())


def bookings_from(
    network: Network, pool: SlotPool, rng: random.Random
) -> Callable[[], Request | None]:
    """Telehub bookings of distinct open slots until the pool is used up."""

    def next_request() -> Request | None:
        slot = pool.take()
        return None if slot is None else booking(network, slot, rng, "/api/v1/bookings")

    return next_request


def baseline_inserts(
    network: Network, slots: list[OpenSlot], rng: random.Random
) -> Callable[[], Request | None]:
    """The same request bodies, sent to the baseline's one-INSERT handler (slots reused)."""
    cycle: Iterator[OpenSlot] = iter(())
    fresh = list(slots)

    def next_request() -> Request | None:
        nonlocal cycle
        slot = next(cycle, None)
        if slot is None:
            cycle = iter(fresh)
            slot = next(cycle)
        return booking(network, slot, rng, "/book")

    return next_request


def cancel(network: Network, booking_id: str) -> Request:
    """The hub cancels a booking."""
    headers = {**bearer(network.hub_token), "Content-Type": "application/json"}
    body = json.dumps({"reason": "Benchmark: feed change"}).encode()
    return Request("POST", f"/api/v1/bookings/{booking_id}/cancel", headers, body)
