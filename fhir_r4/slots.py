"""FHIR Slot search and read: the free slots the JSON API offers (`scheduling.availability.search`,
the same engine and rules), each with a stable id (`ids.slot_id`) that can be read and booked.

`GET /fhir/r4/Slot?service-type=<id>&start=ge<t>&start=lt<t>[&schedule=Schedule/<c>-<s>]
[&patient-state=NY]&status=free`, as Oracle Health and SMART Scheduling Links clients ask:
- the service comes from `service-type` or from the `schedule` (one or more, comma-separated);
- `start` bounds when slots start (default: from now, for 7 days; at most 92 days);
- `patient-state` (a telehub search parameter: the USPS code of the state the patient is in)
  is required for video sessions, whose consultant must be licensed there, exactly as the JSON
  API's `patient_state`;
- only free slots are served (`status=free`, or no status): busy time is the bulk publication's.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg
from aiohttp import web

from fhir_r4 import ids, resources
from fhir_r4.core import (
    BASE,
    Bounds,
    FhirRoutes,
    SearchParam,
    SearchQuery,
    bad_parameter,
    date_bounds,
    fhir_response,
    renamed,
    search_query,
    searchset,
    token,
)
from hub import store as hub_store
from scheduling import availability
from scheduling import store as scheduling_store
from scheduling.slots import Period, Slot
from scheduling.store import Service
from telehub.auth import Caller
from telehub.db import reading
from telehub.errors import NotFound, Problem
from telehub.fields import US_STATES
from telehub.keys import POOL, REPLICA, SETTINGS
from telehub.request import now_of, unit_of_work

fhir = FhirRoutes()
DEFAULT_WINDOW = timedelta(days=7)
MAX_SCHEDULES = 20
PATIENT_STATE = "patient-state"
PATIENT_STATE_DEFINITION = "urn:telehub:SearchParameter/Slot-patient-state"
# The slot search's own field names, as this search names them.
_FIELDS = {
    "service_id": "service-type",
    "patient_state": PATIENT_STATE,
    "start": "start",
    "end": "start",
}

SLOT_SEARCH = (
    SearchParam("schedule", "reference", "Schedule/<consultant>-<service>; comma for several"),
    SearchParam(
        "start",
        "date",
        "When slots start: ge/gt and lt/le (a day is the whole UTC day); default from now for "
        "7 days, at most 92 days",
    ),
    SearchParam(
        "service-type",
        "token",
        f"The service: {resources.SERVICE_SYSTEM}|<HealthcareService id> (system optional)",
    ),
    SearchParam("status", "token", "free (only free slots are served)"),
    SearchParam(
        PATIENT_STATE,
        "token",
        "USPS code of the state the patient is in; required for video sessions (the "
        "consultant must be licensed there)",
        PATIENT_STATE_DEFINITION,
    ),
)
fhir.notes["Slot"] = (
    "Free slots computed by the slot engine (the same as GET /api/v1/slots); ids "
    "<consultant>-<service>-<YYYYMMDDTHHMMSSZ> are stable and bookable."
)


@fhir.search(
    "Slot",
    name="fhir_slot_search",
    scope="slots:read",
    params=SLOT_SEARCH,
    documentation="Free slots of a service or schedule, paged (_count, next link)",
)
async def search_slots(request: web.Request, caller: Caller) -> web.Response:
    """Free slots as a searchset Bundle."""
    query = search_query(request, SLOT_SEARCH)
    status = query.one("status")
    if status is not None and token("status", status) != "free":
        raise bad_parameter("status", "only free slots are served (status=free)")
    state = _patient_state(query)
    wanted_service = _service_id(query)
    schedules = _schedules(query)
    now = now_of(request)
    window = _window(date_bounds("start", query.all("start")), now)
    app = request.app  # a search may be a few seconds stale: the replica, when there is one
    async with reading(app[POOL], app.get(REPLICA), app[SETTINGS].db_acquire_timeout) as conn:
        pairs = await _searches(conn, wanted_service, schedules)
        found: list[tuple[Service, Slot]] = []
        for service, consultant_id in pairs:
            try:
                slots = await availability.search(
                    conn,
                    service_id=service.id,
                    window=window,
                    consultant_id=consultant_id,
                    patient_state=state,
                    now=now,
                )
            except Problem as refused:
                raise renamed(refused, _FIELDS) from None
            found.extend((service, s) for s in slots)
    found.sort(key=lambda pair: (pair[1].start, pair[1].consultant_id, pair[1].service_id))
    # Only the page's slots become resources: a month of 50 consultants is thousands.
    end = query.offset + query.count
    page = [
        resources.slot(s.consultant_id, service, s.start, s.end)
        for service, s in found[query.offset : end]
    ]
    more = end < len(found)
    return fhir_response(
        searchset(request, page, total=len(found), next_offset=end if more else None)
    )


@fhir.read("Slot", name="fhir_slot_read", scope="slots:read")
async def read_slot(request: web.Request, caller: Caller) -> web.Response:
    """One free slot by id; a time that is not (or no longer) open answers 404."""
    key = ids.parse_slot_id(request.match_info["id"])
    if key is None:
        raise NotFound("no such Slot")
    now = now_of(request)
    async with unit_of_work(request) as conn:
        service = await scheduling_store.get_service(conn, key.service_id)
        consultant = await hub_store.get_consultant(conn, key.consultant_id)
        if service is None or consultant is None or not service.active:
            raise NotFound("no such Slot")
        # A video session's slot is open to patients in the consultant's licensed states.
        state = consultant.licensed_states[0] if consultant.licensed_states else None
        try:
            slots = await availability.search(
                conn,
                service_id=service.id,
                window=Period(key.start, key.start + timedelta(seconds=1)),
                consultant_id=consultant.id,
                patient_state=state if service.terms.requires_license else None,
                now=now,
            )
        except Problem:
            raise NotFound("no such Slot") from None
    for s in slots:
        if s.start == key.start and s.consultant_id == consultant.id:
            return fhir_response(resources.slot(s.consultant_id, service, s.start, s.end))
    raise NotFound("no such Slot: the time is not open (taken, held, or past)")


def _patient_state(query: SearchQuery) -> str | None:
    given = query.one(PATIENT_STATE)
    if given is None:
        return None
    state = token(PATIENT_STATE, given, resources.USPS).upper()
    if state not in US_STATES:
        raise bad_parameter(PATIENT_STATE, f"{given!r} is not a US state's USPS code")
    return state


def _service_id(query: SearchQuery) -> int | None:
    given = query.one("service-type")
    if given is None:
        return None
    code = token("service-type", given, resources.SERVICE_SYSTEM)
    number = ids.parse_number_id(code)
    if number is None:
        raise bad_parameter("service-type", f"{code!r} is not a service id")
    return number


def _schedules(query: SearchQuery) -> list[ids.ScheduleKey] | None:
    given = query.one("schedule")
    if given is None:
        return None
    keys: list[ids.ScheduleKey] = []
    for part in given.split(","):
        text = part.strip().removeprefix(f"{BASE}/").removeprefix("Schedule/")
        key = ids.parse_schedule_id(text)
        if key is None:
            raise bad_parameter("schedule", f"{part.strip()!r} is not a Schedule reference")
        keys.append(key)
    if len(keys) > MAX_SCHEDULES:
        raise bad_parameter("schedule", f"at most {MAX_SCHEDULES} schedules at once")
    return keys


def _window(bounds: Bounds, now: datetime) -> Period:
    lower = bounds.lower or now
    upper = bounds.upper or lower + DEFAULT_WINDOW
    if upper <= lower:
        raise bad_parameter("start", "the range ends before it starts (give lt after ge)")
    if upper - lower > availability.MAX_SEARCH:
        raise bad_parameter(
            "start", f"the range may be at most {availability.MAX_SEARCH.days} days"
        )
    return Period(lower, upper)


async def _searches(
    conn: asyncpg.Connection, service_id: int | None, schedules: list[ids.ScheduleKey] | None
) -> list[tuple[Service, int | None]]:
    """Which slot searches answer the query: (service, one consultant or all)."""
    if schedules is None:
        if service_id is None:
            raise bad_parameter("service-type", "give service-type or schedule")
        service = await scheduling_store.get_service(conn, service_id)
        if service is None:
            raise bad_parameter("service-type", "no active service with this id")
        return [(service, None)]
    out: list[tuple[Service, int | None]] = []
    for key in dict.fromkeys(schedules):
        if service_id is not None and key.service_id != service_id:
            continue  # both given: a schedule of another service matches nothing
        service = await scheduling_store.get_service(conn, key.service_id)
        if service is None:
            raise bad_parameter("schedule", f"Schedule/{ids.schedule_id(*_pair(key))} is unknown")
        out.append((service, key.consultant_id))
    return out


def _pair(key: ids.ScheduleKey) -> tuple[int, int]:
    return key.consultant_id, key.service_id
