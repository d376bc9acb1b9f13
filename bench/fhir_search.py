"""1b. FHIR Slot search: GET /fhir/r4/Slot for the same service, window and patient state as
the JSON slot search (7 days, every consultant), as an EHR asks it, next to the JSON search.

An EHR sees every slot of the window by following the Bundle's `next` links, so one search
is the whole walk (`_count` at the server's maximum); the first page is timed too. The ratio
is FHIR p50 (p99) over the JSON search's p50 (p99) of the same run. Correctness: for every
window searched, the FHIR walk lists exactly the slots `GET /api/v1/slots` lists (consultant,
start and end, read back from the stable Slot ids' resources), never a duplicate.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from typing import Any
from urllib.parse import urlencode, urlsplit

from bench.api import bearer, slots_target, utc_text
from bench.config import SEARCH_STATE, Sizes
from bench.http import Connection
from bench.load import HOST
from bench.network import Network
from bench.search import measure, spread
from bench.stats import summary

PAGE = 500  # the FHIR face's largest _count: the fewest pages an EHR can ask for
FHIR_JSON = "application/fhir+json"


def fhir_slots_target(service_id: int, start: datetime, end: datetime, state: str) -> str:
    """GET /fhir/r4/Slot for one service across all consultants, free slots in [start, end)."""
    query = urlencode(
        [
            ("service-type", str(service_id)),
            ("start", "ge" + utc_text(start)),
            ("start", "lt" + utc_text(end)),
            ("patient-state", state),
            ("status", "free"),
            ("_count", str(PAGE)),
        ]
    )
    return f"/fhir/r4/Slot?{query}"


def _next_target(bundle: dict[str, Any]) -> str | None:
    """The path and query of the Bundle's `next` link (the bench talks to one host)."""
    for link in bundle.get("link", []):
        if link.get("relation") == "next":
            parts = urlsplit(link["url"])
            return f"{parts.path}?{parts.query}"
    return None


def _key(resource: dict[str, Any]) -> tuple[str, str, str]:
    """A Slot's schedule (consultant and service), start and end, in UTC text."""
    return (
        resource["schedule"]["reference"],
        utc_text(datetime.fromisoformat(resource["start"])),
        utc_text(datetime.fromisoformat(resource["end"])),
    )


class _FhirSearcher:
    def __init__(self, port: int, network: Network, days: int) -> None:
        self.conn = Connection(HOST, port)
        self.network = network
        self.days = days
        self.headers = {**bearer(network.hub_token), "Accept": FHIR_JSON}
        self.first = datetime.combine(network.first_day + timedelta(days=1), clock(0), UTC)
        last = datetime.combine(network.last_day + timedelta(days=1), clock(0), UTC)
        self.span = max(1, (last - self.first).days - days + 1)
        self.count = 0
        self.found: list[int] = []
        self.pages: list[int] = []
        self.first_page: list[float] = []
        self.sizes: list[int] = []
        self.windows: dict[datetime, list[tuple[str, str, str]]] = {}

    def window(self) -> tuple[datetime, datetime]:
        start = self.first + timedelta(days=self.count % self.span)
        self.count += 1
        return start, start + timedelta(days=self.days)

    async def search(self) -> float:
        """One whole search (every page); returns its latency and keeps what it found."""
        start, end = self.window()
        target: str | None = fhir_slots_target(
            self.network.search_service.id, start, end, SEARCH_STATE
        )
        slots: list[tuple[str, str, str]] = []
        pages = size = 0
        t0 = time.perf_counter()
        while target is not None:
            answer = await self.conn.request("GET", target, self.headers)
            if pages == 0:
                self.first_page.append(time.perf_counter() - t0)
            if answer.status != 200:
                raise RuntimeError(
                    f"FHIR Slot search answered {answer.status}: {answer.body[:300]!r}"
                )
            bundle = answer.json()
            slots += [_key(e["resource"]) for e in bundle.get("entry", [])]
            pages, size = pages + 1, size + len(answer.body)
            target = _next_target(bundle)
        elapsed = time.perf_counter() - t0
        self.found.append(len(slots))
        self.pages.append(pages)
        self.sizes.append(size)
        self.windows.setdefault(start, slots)
        return elapsed


async def _json_slots(
    port: int, network: Network, start: datetime, end: datetime
) -> list[tuple[str, str, str]]:
    """The JSON search's slots of one window, keyed like FHIR Slots (untimed)."""
    conn = Connection(HOST, port)
    try:
        target = slots_target(network.search_service.id, start, end, SEARCH_STATE)
        answer = await conn.request("GET", target, bearer(network.hub_token))
    finally:
        conn.close()
    if answer.status != 200:
        raise RuntimeError(f"slot search answered {answer.status}: {answer.body[:300]!r}")
    return [
        (
            f"Schedule/{s['consultant_id']}-{s['service_id']}",
            utc_text(datetime.fromisoformat(s["start"])),
            utc_text(datetime.fromisoformat(s["end"])),
        )
        for s in answer.json()["slots"]
    ]


async def fhir_slot_search(
    port: int,
    network: Network,
    samples: int,
    sizes: Sizes,
    roles: dict[str, list[int]],
    json_search: dict[str, Any],
    *,
    days: int = 7,
) -> dict[str, Any]:
    """p50/p99 of `samples` FHIR Slot searches of `days` days, their ratio to the JSON search
    of the same run (`json_search`, same days), and whether both list the same slots."""
    searcher = _FhirSearcher(port, network, days)
    try:
        timing = await measure(searcher.search, samples, sizes, roles)
    finally:
        searcher.conn.close()
    same = duplicates = 0
    for start, slots in searcher.windows.items():
        expected = await _json_slots(port, network, start, start + timedelta(days=days))
        same += sorted(slots) == sorted(expected)
        duplicates += len(slots) - len(set(slots))
    fhir, json = timing["latency"], json_search["latency"]
    return {
        "days": days,
        "consultants": len(network.people),
        "patient_state": SEARCH_STATE,
        "page_size": PAGE,
        **timing,
        "first_page_latency": summary(searcher.first_page),
        "slots_per_search": spread(searcher.found),
        "pages_per_search": spread(searcher.pages),
        "answer_kb_mean": round(sum(searcher.sizes) / len(searcher.sizes) / 1024, 1),
        "ratio_to_json": {
            "p50": round(fhir["p50_ms"] / json["p50_ms"], 2),
            "p99": round(fhir["p99_ms"] / json["p99_ms"], 2),
        },
        "windows_checked": len(searcher.windows),
        "windows_matching_json": same,
        "duplicate_slots": duplicates,
    }
