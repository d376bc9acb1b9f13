"""FHIR reads and searches of the directory (Practitioner, PractitionerRole, HealthcareService,
Organization, Schedule) and of the calling clinic's Patients.

Scopes: Practitioner, PractitionerRole and Schedule need `consultants:read`; HealthcareService
and Organization `services:read`; Patient `patients:read` and a clinic's token. A clinic sees
the hub's Organization and its own (another clinic's answers 404, as a missing one); the hub's
callers see every clinic. Every Patient read and search is audited by `spokes.patients`.

Patient search: `identifier` is the clinic's MRN (`<mrn system>|<mrn>`, the system optional;
another system matches nothing) and `name` the clinic's patient search (a family or given name
starting with or holding the text, case and accents ignored; being that search, a value that
is exactly an MRN or a birth date finds that patient too). `Bundle.total` is given when it
is known without reading further patients: on the last page, or for an identifier.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Sequence

import asyncpg
from aiohttp import web

from fhir_r4 import ids, resources
from fhir_r4.core import (
    FhirRoutes,
    Resource,
    SearchParam,
    SearchQuery,
    bad_parameter,
    fhir_response,
    paged,
    search_query,
    searchset,
    token,
)
from hub import store as hub_store
from scheduling import store as scheduling_store
from scheduling.store import Service
from spokes import patients
from spokes import store as spokes_store
from telehub.auth import Caller
from telehub.errors import NotFound
from telehub.request import trail_of, unit_of_work

fhir = FhirRoutes()

ACTIVE = SearchParam("active", "token", "true or false")
NAME = SearchParam(
    "name", "string", "A word of the name starts with the text (case, accents ignored)"
)
PRACTITIONER_SEARCH = (NAME, ACTIVE)
ROLE_SEARCH = (
    SearchParam("practitioner", "reference", "Practitioner/<id>"),
    SearchParam("service", "reference", "HealthcareService/<id>: roles offering it"),
    SearchParam("specialty", "token", f"{resources.NUCC}|<taxonomy code>"),
    SearchParam("role", "token", f"{resources.ROLE_SYSTEM}|<role>"),
    ACTIVE,
)
SERVICE_SEARCH = (
    SearchParam("service-type", "token", f"{resources.SERVICE_SYSTEM}|<id>"),
    SearchParam("service-category", "token", f"{resources.SERVICE_KIND_SYSTEM}|<kind>"),
    NAME,
    ACTIVE,
)
ORGANIZATION_SEARCH = (NAME,)
SCHEDULE_SEARCH = (
    SearchParam("actor", "reference", "PractitionerRole/<id> or Practitioner/<id>"),
    SearchParam("service-type", "token", f"{resources.SERVICE_SYSTEM}|<id>"),
    ACTIVE,
)
PATIENT_SEARCH = (
    SearchParam("identifier", "token", "The clinic's MRN: <mrn system>|<mrn> (system optional)"),
    SearchParam("name", "string", "Family or given name starting with or holding the text"),
)
fhir.notes["Practitioner"] = (
    "A hub consultant. Licensed states: Practitioner.qualification (one per state) with the "
    "Da Vinci PDex Plan-Net practitioner-qualification extension's whereValid (USPS code)."
)
fhir.notes["PractitionerRole"] = (
    "A consultant's role at the hub (id = the Practitioner's): role, NUCC specialty, services."
)
fhir.notes["Schedule"] = "One per consultant and service (<consultant>-<service>), actor the role."
fhir.notes["Organization"] = "Organization/hub and Organization/clinic-<id> (the caller's own)."
fhir.notes["Patient"] = "The calling clinic's patients only; every read is audited."


# ---- Practitioner and PractitionerRole -----------------------------------------------------


@fhir.read("Practitioner", name="fhir_practitioner_read", scope="consultants:read")
async def read_practitioner(request: web.Request, caller: Caller) -> web.Response:
    """A consultant as a Practitioner."""
    async with unit_of_work(request) as conn:
        consultant = await _consultant(conn, request.match_info["id"], "Practitioner")
    return fhir_response(resources.practitioner(consultant))


@fhir.search(
    "Practitioner",
    name="fhir_practitioner_search",
    scope="consultants:read",
    params=PRACTITIONER_SEARCH,
)
async def search_practitioners(request: web.Request, caller: Caller) -> web.Response:
    """The hub's consultants."""
    query = search_query(request, PRACTITIONER_SEARCH)
    name, active = query.one("name"), _active(query)
    async with unit_of_work(request) as conn:
        found = await hub_store.list_consultants(conn, include_inactive=True)
    chosen = [
        resources.practitioner(c)
        for c in found
        if (active is None or c.active == active) and (name is None or _named(name, c.name))
    ]
    return fhir_response(paged(request, query, chosen))


@fhir.read("PractitionerRole", name="fhir_practitioner_role_read", scope="consultants:read")
async def read_practitioner_role(request: web.Request, caller: Caller) -> web.Response:
    """A consultant's role at the hub."""
    async with unit_of_work(request) as conn:
        consultant = await _consultant(conn, request.match_info["id"], "PractitionerRole")
        services = await _services(conn)
    return fhir_response(resources.practitioner_role(consultant, _offered(consultant, services)))


@fhir.search(
    "PractitionerRole",
    name="fhir_practitioner_role_search",
    scope="consultants:read",
    params=ROLE_SEARCH,
)
async def search_practitioner_roles(request: web.Request, caller: Caller) -> web.Response:
    """Consultants' roles, by practitioner, service offered, specialty, role."""
    query = search_query(request, ROLE_SEARCH)
    practitioner = _reference(query, "practitioner", ("Practitioner",))
    service = _reference(query, "service", ("HealthcareService",))
    specialty = _token(query, "specialty", resources.NUCC)
    role = _token(query, "role", resources.ROLE_SYSTEM)
    active = _active(query)
    async with unit_of_work(request) as conn:
        found = await hub_store.list_consultants(conn, include_inactive=True)
        services = await _services(conn)
    chosen = [
        resources.practitioner_role(c, _offered(c, services))
        for c in found
        if (practitioner is None or practitioner == c.id)
        and (service is None or service in c.service_ids)
        and (specialty is None or specialty == resources.SPECIALTIES.get(c.role, ("",))[0])
        and (role is None or role == c.role)
        and (active is None or c.active == active)
    ]
    return fhir_response(paged(request, query, chosen))


# ---- HealthcareService and Organization ----------------------------------------------------


@fhir.read("HealthcareService", name="fhir_healthcare_service_read", scope="services:read")
async def read_healthcare_service(request: web.Request, caller: Caller) -> web.Response:
    """A telehub service."""
    number = ids.parse_number_id(request.match_info["id"])
    async with unit_of_work(request) as conn:
        service = await scheduling_store.get_service(conn, number) if number else None
    if service is None:
        raise NotFound("no such HealthcareService")
    return fhir_response(resources.healthcare_service(service))


@fhir.search(
    "HealthcareService",
    name="fhir_healthcare_service_search",
    scope="services:read",
    params=SERVICE_SEARCH,
)
async def search_healthcare_services(request: web.Request, caller: Caller) -> web.Response:
    """The hub's active services."""
    query = search_query(request, SERVICE_SEARCH)
    kind = _token(query, "service-category", resources.SERVICE_KIND_SYSTEM)
    type_code = _token(query, "service-type", resources.SERVICE_SYSTEM)
    name, active = query.one("name"), _active(query)
    async with unit_of_work(request) as conn:
        found = await scheduling_store.list_services(conn)  # the active ones
    chosen = [
        resources.healthcare_service(s)
        for s in found
        if active is not False
        and (kind is None or kind == s.kind)
        and (type_code is None or type_code == str(s.id))
        and (name is None or _named(name, s.name))
    ]
    return fhir_response(paged(request, query, chosen))


@fhir.read("Organization", name="fhir_organization_read", scope="services:read")
async def read_organization(request: web.Request, caller: Caller) -> web.Response:
    """The hub, or a clinic the caller may see (its own; every clinic for the hub)."""
    found, spoke_id = ids.parse_organization_id(request.match_info["id"])
    if not found:
        raise NotFound("no such Organization")
    if spoke_id is None:
        return fhir_response(resources.organization(None))
    if caller.spoke_id is not None and caller.spoke_id != spoke_id:
        raise NotFound("no such Organization")
    async with unit_of_work(request) as conn:
        spoke = await spokes_store.get_spoke(conn, spoke_id)
    if spoke is None:
        raise NotFound("no such Organization")
    return fhir_response(resources.organization(spoke))


@fhir.search(
    "Organization",
    name="fhir_organization_search",
    scope="services:read",
    params=ORGANIZATION_SEARCH,
)
async def search_organizations(request: web.Request, caller: Caller) -> web.Response:
    """The hub and the clinics the caller may see."""
    query = search_query(request, ORGANIZATION_SEARCH)
    name = query.one("name")
    async with unit_of_work(request) as conn:
        spokes = await spokes_store.list_spokes(conn)
    visible = [s for s in spokes if caller.spoke_id is None or s.id == caller.spoke_id]
    chosen = [
        resources.organization(s)
        for s in (None, *visible)
        if name is None or _named(name, resources.HUB_NAME if s is None else s.name)
    ]
    return fhir_response(paged(request, query, chosen))


# ---- Schedule ----------------------------------------------------------------------------


@fhir.read("Schedule", name="fhir_schedule_read", scope="consultants:read")
async def read_schedule(request: web.Request, caller: Caller) -> web.Response:
    """One consultant offering one service."""
    key = ids.parse_schedule_id(request.match_info["id"])
    if key is None:
        raise NotFound("no such Schedule")
    async with unit_of_work(request) as conn:
        consultant = await hub_store.get_consultant(conn, key.consultant_id)
        services = await _services(conn)
    service = services.get(key.service_id)
    if consultant is None or service is None or key.service_id not in consultant.service_ids:
        raise NotFound("no such Schedule")
    return fhir_response(resources.schedule(consultant, service))


@fhir.search(
    "Schedule", name="fhir_schedule_search", scope="consultants:read", params=SCHEDULE_SEARCH
)
async def search_schedules(request: web.Request, caller: Caller) -> web.Response:
    """Every consultant's schedule of each service they offer (1:1 services: no groups)."""
    query = search_query(request, SCHEDULE_SEARCH)
    actor = _reference(query, "actor", ("PractitionerRole", "Practitioner"))
    type_code = _token(query, "service-type", resources.SERVICE_SYSTEM)
    active = _active(query)
    async with unit_of_work(request) as conn:
        consultants = await hub_store.list_consultants(conn, include_inactive=True)
        services = await _services(conn)
    chosen = [
        resources.schedule(c, s)
        for c in consultants
        for s in _offered(c, services)
        if (actor is None or actor == c.id)
        and (type_code is None or type_code == str(s.id))
        and (active is None or c.active == active)
    ]
    return fhir_response(paged(request, query, chosen))


# ---- Patient -----------------------------------------------------------------------------


@fhir.read("Patient", name="fhir_patient_read", scope="patients:read")
async def read_patient(request: web.Request, caller: Caller) -> web.Response:
    """One of the calling clinic's patients (another clinic's answers 404); audited."""
    try:
        patient_id = uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound("no such patient") from None
    async with unit_of_work(request) as conn:
        found = await patients.get(conn, caller, trail_of(request, caller), patient_id)
    return fhir_response(resources.patient(found))


@fhir.search("Patient", name="fhir_patient_search", scope="patients:read", params=PATIENT_SEARCH)
async def search_patients(request: web.Request, caller: Caller) -> web.Response:
    """The calling clinic's patients by MRN or name, a page at a time; audited."""
    query = search_query(request, PATIENT_SEARCH)
    mrn = _mrn(query, caller)
    name = query.one("name")
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        if mrn is not None and not mrn:  # another clinic's MRN system: nobody of ours
            page, more = [], False
        elif name is not None and mrn is None:
            matches = await patients.search(
                conn, caller, trail, name, offset=query.offset, limit=query.count
            )
            page, more = matches.patients, matches.more
        else:
            page, more = await patients.listed(
                conn, caller, trail, mrn=mrn, offset=query.offset, limit=query.count
            )
            if name is not None:  # both: the MRN's patient, if the name is theirs too
                page = [p for p in page if _named(name, f"{p.given_name} {p.family_name}")]
    shown: list[Resource] = [resources.patient(p) for p in page]
    return fhir_response(
        searchset(
            request,
            shown,
            total=None if more else query.offset + len(page),
            next_offset=query.offset + len(page) if more else None,
        )
    )


# ---- helpers -----------------------------------------------------------------------------


async def _consultant(conn: asyncpg.Connection, text: str, kind: str) -> hub_store.Consultant:
    number = ids.parse_number_id(text)
    consultant = await hub_store.get_consultant(conn, number) if number else None
    if consultant is None:
        raise NotFound(f"no such {kind}")
    return consultant


async def _services(conn: asyncpg.Connection) -> dict[int, Service]:
    """The active 1:1 services (a group session has seats, never a Schedule of slots)."""
    found = await scheduling_store.list_services(conn)
    return {s.id: s for s in found if s.kind != "group_session"}


def _offered(consultant: hub_store.Consultant, services: dict[int, Service]) -> list[Service]:
    return [services[i] for i in consultant.service_ids if i in services]


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _named(wanted: str, name: str) -> bool:
    """FHIR string search: a word of the name starts with the text (case, accents ignored)."""
    text = _fold(wanted.strip())
    folded = _fold(name)
    return folded.startswith(text) or any(w.startswith(text) for w in folded.split())


def _active(query: SearchQuery) -> bool | None:
    given = query.one("active")
    if given is None:
        return None
    value = token("active", given)
    if value not in ("true", "false"):
        raise bad_parameter("active", "must be true or false")
    return value == "true"


def _token(query: SearchQuery, name: str, system: str) -> str | None:
    given = query.one(name)
    return token(name, given, system) if given is not None else None


def _reference(query: SearchQuery, name: str, types: Sequence[str]) -> int | None:
    """A reference parameter to a numeric id (`Practitioner/7` or `7`); 400 naming it else."""
    given = query.one(name)
    if given is None:
        return None
    kind, slash, text = given.rpartition("/")
    kind = kind.rsplit("/", 1)[-1]
    number = ids.parse_number_id(text)
    if number is None or (slash and kind not in types):
        raise bad_parameter(name, f"must reference {' or '.join(t + '/<id>' for t in types)}")
    return number


def _mrn(query: SearchQuery, caller: Caller) -> str | None:
    """The MRN an identifier search asks for ('' when it names another system: no match)."""
    given = query.one("identifier")
    if given is None:
        return None
    system, bar, value = given.rpartition("|")
    if not bar:
        return given
    if not value:
        raise bad_parameter("identifier", "has no value after '|'")
    own = resources.mrn_system(caller.spoke_id) if caller.spoke_id is not None else None
    return value if system in ("", own) else ""
