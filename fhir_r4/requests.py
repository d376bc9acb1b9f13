"""E-consults as FHIR ServiceRequest, each with a Task (same id) whose status follows the
closed loop: `requested` (submitted), `accepted` (assigned to a consultant), `in-progress`
(the consultant is writing the note), `on-hold` (the hub waits for the clinic's answer),
`completed` (the note is signed), `cancelled`. Read and search by patient; another clinic's
answers 404 like a missing one."""

from __future__ import annotations

import uuid
from typing import Any

import asyncpg
from aiohttp import web

from consults import econsults, note_store
from consults.note_store import Subject
from consults.store import Econsult
from fhir_r4 import appointment_resources as res
from fhir_r4.core import (
    FhirRoutes,
    SearchParam,
    SearchQuery,
    bad_parameter,
    fhir_response,
    search_query,
    searchset,
)
from spokes import care_store, patients
from telehub import audit
from telehub.auth import Caller
from telehub.errors import NotFound
from telehub.request import trail_of, unit_of_work

fhir = FhirRoutes()
fhir.notes["ServiceRequest"] = (
    "An e-consult the clinic sent (intent order, priority, the patient, due by as "
    "occurrenceDateTime). Its Task (same id) follows the closed loop."
)
fhir.notes["Task"] = (
    "The loop of an e-consult (same id as its ServiceRequest): requested (submitted), accepted "
    "(assigned), in-progress (the consultant is writing the note), on-hold (the hub waits for "
    "the clinic's answer), completed (the note is signed), cancelled."
)


def _id(request: web.Request, kind: str) -> uuid.UUID:
    try:
        return uuid.UUID(request.match_info["id"])
    except ValueError:
        raise NotFound(f"no such {kind}") from None


async def _drafting(conn: asyncpg.Connection, econsult: Econsult) -> bool:
    """Whether the assigned consultant has started the note (the Task is in progress)."""
    if econsult.status != "assigned":
        return False
    chain = await note_store.notes_about(conn, Subject(econsult_id=econsult.id))
    return any(n.signed_at is None for n in chain)


async def _task(conn: asyncpg.Connection, econsult: Econsult) -> dict[str, Any]:
    return res.task(econsult, drafting=await _drafting(conn, econsult))


@fhir.read("ServiceRequest", name="fhir_service_request_read", scope="econsults:read")
async def read_request(request: web.Request, caller: Caller) -> web.StreamResponse:
    """One of the clinic's e-consults as a ServiceRequest."""
    econsult_id = _id(request, "ServiceRequest")
    async with unit_of_work(request) as conn:
        found = await econsults.get(conn, caller, trail_of(request, caller), econsult_id)
    return fhir_response(res.service_request(found))


@fhir.read("Task", name="fhir_task_read", scope="econsults:read")
async def read_task(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The loop of one of the clinic's e-consults as a Task."""
    econsult_id = _id(request, "Task")
    async with unit_of_work(request) as conn:
        found = await econsults.get(conn, caller, trail_of(request, caller), econsult_id)
        task = await _task(conn, found)
    return fhir_response(task)


BY_PATIENT = (SearchParam("patient", "reference", "The clinic's Patient (required)"),)


def _patient_param(request: web.Request) -> tuple[SearchQuery, uuid.UUID]:
    query = search_query(request, BY_PATIENT)
    raw = query.one("patient")
    if raw is None:
        raise bad_parameter("patient", "is required")
    try:
        return query, uuid.UUID(raw.removeprefix("Patient/"))
    except ValueError:
        raise bad_parameter("patient", "is not a Patient id this server gave") from None


async def _of_patient(
    request: web.Request,
    caller: Caller,
    conn: asyncpg.Connection,
    query: SearchQuery,
    patient_id: uuid.UUID,
) -> tuple[list[Econsult], int]:
    """One page of the patient's e-consults (only the page is read, and audited), and how many
    there are."""
    trail = trail_of(request, caller)
    patient = await patients.get(conn, caller, trail, patient_id)
    found = await care_store.econsults_of(conn, patient.spoke_id, patient.id)
    page = found[query.offset : query.offset + query.count]
    await audit.record(conn, trail, "read", "econsult", [e.id for e in page], patient.spoke_id)
    return page, len(found)


def _bundle(
    request: web.Request, query: SearchQuery, page: list[dict[str, Any]], total: int
) -> web.Response:
    more = query.offset + query.count < total
    next_offset = query.offset + query.count if more else None
    return fhir_response(searchset(request, page, total=total, next_offset=next_offset))


@fhir.search(
    "ServiceRequest", name="fhir_service_request_search", scope="econsults:read", params=BY_PATIENT
)
async def search_requests(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The e-consults about one of the clinic's patients, newest first."""
    query, patient_id = _patient_param(request)
    async with unit_of_work(request) as conn:
        page, total = await _of_patient(request, caller, conn, query, patient_id)
    return _bundle(request, query, [res.service_request(e) for e in page], total)


@fhir.search("Task", name="fhir_task_search", scope="econsults:read", params=BY_PATIENT)
async def search_tasks(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The loops of the e-consults about one of the clinic's patients, newest first."""
    query, patient_id = _patient_param(request)
    async with unit_of_work(request) as conn:
        page, total = await _of_patient(request, caller, conn, query, patient_id)
        tasks = [await _task(conn, e) for e in page]
    return _bundle(request, query, tasks, total)
