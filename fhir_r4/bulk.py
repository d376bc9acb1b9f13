"""SMART Scheduling Links: `GET /fhir/r4/$bulk-publish` and its NDJSON files.

A slot directory (a vaccine finder, a state's referral directory) polls the manifest every few
minutes and fetches the files it names: every Schedule (one consultant offering one service)
and every Slot over each service's booking horizon, `free` where the slot engine offers the
time and `busy` where the consultant's published hours offer it but a booking or an active
hold takes it. Free/busy only: no patient, no clinic, no booking is named, so it is public, as
the specification asks (directories poll it without credentials), and reads no patient-linked
record (no audit row).

Everything is computed at one publishing instant, the clock floored to `PUBLISH_STEP`: the
manifest's `transactionTime`, and the instant the files' slots are computed at. Each answer
carries a strong `ETag` of its bytes and answers `304` to a matching `If-None-Match`: the
manifest changes once per step; a file changes only when its resources do, so a directory
re-fetches nothing that is unchanged. A slot whose notice period passes inside a step stays
listed as free for the rest of the step (at most five minutes); booking it is refused as
booking any slot too soon is.

Video sessions need a consultant licensed in the patient's state: their Slots are the
consultant's own times, and the Schedule's actor (the PractitionerRole) says where the
consultant is licensed. Group sessions are seats, not slots, and are not published.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import web
from fhir.resources.R4B.fhirresourcemodel import FHIRResourceModel
from fhir.resources.R4B.slot import Slot as FhirSlot

from fhir_r4 import resources
from fhir_r4.core import BASE, Capability, FhirRoutes, OperationDef, dumped
from hub import store as hub_store
from scheduling import store
from scheduling.availability import MAX_SEARCH
from scheduling.slots import Period, Slot, open_slots
from telehub.conditional import conditional
from telehub.db import connection
from telehub.keys import POOL, SETTINGS
from telehub.request import now_of

PUBLISH_STEP = timedelta(minutes=5)
MANIFEST = f"{BASE}/$bulk-publish"
FILE_TYPES = ("Schedule", "Slot")
NDJSON = "application/fhir+ndjson"
# Public and shared: a directory and any cache between may keep it for one publishing step.
CACHE_CONTROL = f"public, max-age={int(PUBLISH_STEP.total_seconds())}"
SPECIFICATION = (
    "https://github.com/smart-on-fhir/smart-scheduling-links/blob/master/specification.md"
)

# No notes on Slot or Schedule here: /metadata keeps one note per resource type (fhir_r4.slots
# writes Slot's); the system-level operation below documents the publication.
bulk = FhirRoutes()


def publishing_instant(now: datetime) -> datetime:
    """The clock floored to the publishing step (UTC): what every answer is computed at."""
    now = now.astimezone(UTC)
    step = int(PUBLISH_STEP.total_seconds())
    return datetime.fromtimestamp(int(now.timestamp()) // step * step, UTC)


def _etag(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()[:32]


def manifest(base_url: str, at: datetime) -> dict[str, Any]:
    """The bulk publication manifest: when, what was asked, and one file per resource type."""
    return {
        "transactionTime": at.isoformat().replace("+00:00", "Z"),
        "request": base_url + MANIFEST,
        "output": [
            {"type": kind, "url": f"{base_url}{MANIFEST}/{kind}.ndjson"} for kind in FILE_TYPES
        ],
        "error": [],
    }


def ndjson(items: Iterable[FHIRResourceModel]) -> bytes:
    """One resource per line, each as compact JSON (the Bulk Data NDJSON format)."""
    lines = (json.dumps(dumped(item), separators=(",", ":"), sort_keys=True) for item in items)
    return "".join(line + "\n" for line in lines).encode()


async def published_schedules(conn: asyncpg.Connection) -> list[FHIRResourceModel]:
    """A Schedule per active consultant and 1:1 service they offer."""
    out: list[FHIRResourceModel] = []
    for service in await _published_services(conn):
        for consultant in await hub_store.list_consultants(conn, service_id=service.id):
            out.append(resources.schedule(consultant, service))
    return sorted(out, key=lambda s: _numeric_id(str(s.id)))


async def published_slots(conn: asyncpg.Connection, at: datetime) -> list[FhirSlot]:
    """Every Slot over each service's horizon from `at`: free as the slot engine offers it,
    busy where the published hours offer the time but bookings or holds take it."""
    out: list[tuple[datetime, str, FhirSlot]] = []
    for service in await _published_services(conn):
        # Every consultant's own times, whatever the patient's state (see the module's note).
        terms = replace(service.terms, requires_license=False)
        window = Period(at, at + min(terms.horizon, MAX_SEARCH))
        offered = open_slots(
            await store.load_calendars(conn, service, window, with_busy=False, now=at),
            terms,
            window,
            at,
        )
        free = open_slots(
            await store.load_calendars(conn, service, window, now=at), terms, window, at
        )
        open_keys = {_key(s) for s in free}
        for slot in offered:
            status = "free" if _key(slot) in open_keys else "busy"
            item = resources.slot(slot.consultant_id, service, slot.start, slot.end, status=status)
            out.append((slot.start, str(item.id), item))
        # A free time the hours-only view lacks cannot happen; if it ever did, it is published.
        offered_keys = {_key(s) for s in offered}
        for slot in free:
            if _key(slot) not in offered_keys:
                item = resources.slot(slot.consultant_id, service, slot.start, slot.end)
                out.append((slot.start, str(item.id), item))
    return [item for _, _, item in sorted(out, key=lambda entry: entry[:2])]


async def _published_services(conn: asyncpg.Connection) -> list[store.Service]:
    services = await store.list_services(conn)
    return sorted((s for s in services if s.kind != "group_session"), key=lambda s: s.id)


def _key(slot: Slot) -> tuple[int, datetime]:
    return slot.consultant_id, slot.start


def _numeric_id(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("-"))


@bulk.public(
    "GET",
    MANIFEST,
    name="fhir_bulk_publish",
    capability=Capability(
        None,
        operation=OperationDef(
            "bulk-publish",
            SPECIFICATION,
            "SMART Scheduling Links manifest: NDJSON of every Schedule and every free or busy "
            "Slot, public, no patient data; ETag and 304 on If-None-Match.",
        ),
    ),
)
async def bulk_publish(request: web.Request) -> web.StreamResponse:
    """The SMART Scheduling Links manifest (public: directories poll it without credentials)."""
    at = publishing_instant(now_of(request))
    body = json.dumps(manifest(request.app[SETTINGS].base_url, at), separators=(",", ":"))

    async def render() -> bytes:
        return body.encode()

    return await conditional(
        request,
        etag=_etag(body.encode()),
        last_modified=at,
        content_type="application/json",
        cache_control=CACHE_CONTROL,
        render=render,
    )


@bulk.routes.get(MANIFEST + "/{kind:Schedule|Slot}.ndjson", name="fhir_bulk_file")
async def bulk_file(request: web.Request) -> web.StreamResponse:
    """One NDJSON file of the manifest: every Schedule, or every free or busy Slot."""
    settings = request.app[SETTINGS]
    at = publishing_instant(now_of(request))
    async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
        if request.match_info["kind"] == "Schedule":
            body = ndjson(await published_schedules(conn))
        else:
            body = ndjson(await published_slots(conn, at))

    async def render() -> bytes:
        return body

    # No Last-Modified: a file's bytes, not the instant, say whether it changed.
    return await conditional(
        request,
        etag=_etag(body),
        last_modified=None,
        content_type=NDJSON,
        cache_control=CACHE_CONTROL,
        render=render,
    )
