"""FHIR Appointment: read and search the clinic's bookings, and book through the IHE ITI
Scheduling / Argonaut operations, over the same domain functions as the JSON API.

- `POST Appointment/$find` (Parameters `service-type`, `start`, `end`, `patient` or
  `patient-state`, optional `practitioner`): a Bundle of proposed Appointments, each with the
  one Slot it would take.
- `POST Appointment/$hold` (`appointment-resource`: a proposed Appointment): a hold
  (scheduling/holds.py) as an Appointment with status `pending`, id `hold-<uuid>`, and its
  expiry in the extension `appointment_resources.HOLD_EXPIRES`.
- `POST Appointment/$book`: books `appointment-reference` (a held `Appointment/hold-<uuid>`)
  or `appointment-resource` (a proposed or pending Appointment with one Slot and the
  Patient). **Reschedule** follows IHE ITI's "modify an existing appointment": `$book` with
  `appointment-resource` whose `id` is the booked Appointment and whose `slot` is the new
  one, or with `original-appointment` (a Reference to the booked Appointment) beside the new
  `appointment-resource`; the booking is moved atomically (`moves.reschedule`: it keeps
  its old time unless the new one holds) and keeps its id.
- `POST Appointment` (status `booked`, exactly one `slot`, a Patient participant), as Oracle
  Health clients create appointments.
- Cancel: `PUT Appointment/{id}` or `PATCH` (JSON Patch) setting `status` to `cancelled`,
  with `cancelationReason`; a pending (held) Appointment cancelled releases the hold.
- Every write runs once per `Idempotency-Key`, or per `If-None-Exist` criteria: the criteria
  are taken as the client's key for the request (not run as a search), so the same create sent
  again with them answers with the first result, and with another body is 422.
"""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

import asyncpg
from aiohttp import web
from fhir.resources.R4B.appointment import Appointment
from fhir.resources.R4B.parameters import Parameters

from fhir_r4 import appointment_resources as res
from fhir_r4 import ids
from fhir_r4.core import (
    Capability,
    FhirRoutes,
    OperationDef,
    SearchParam,
    bad_parameter,
    base_url,
    date_bounds,
    dumped,
    fhir_response,
    read_resource,
    renamed,
    search_query,
    searchset,
    token,
)
from fhir_r4.resources import SERVICE_SYSTEM
from scheduling import availability, bookings, holds, moves
from scheduling import booking_store as bs
from scheduling.slots import Period
from spokes import patients
from telehub import audit
from telehub.auth import Caller
from telehub.db import connection, retrying
from telehub.errors import (
    BadRequest,
    Conflict,
    FieldError,
    NotAnOpenSlot,
    NotFound,
    ValidationFailed,
)
from telehub.idempotency import KEY_PATTERN, Answer, fingerprint, run_once
from telehub.keys import POOL, SETTINGS
from telehub.request import now_of, trail_of, unit_of_work

fhir = FhirRoutes()
fhir.notes["Appointment"] = (
    "A booking is an Appointment (status booked, fulfilled, noshow or cancelled) with the one "
    "Slot it took; a hold is an Appointment with status pending, id hold-<uuid>, and its expiry "
    f"in the extension {res.HOLD_EXPIRES} (valueInstant). IHE ITI Scheduling $find, $hold and "
    "$book; reschedule is $book of an appointment-resource whose id is the booked Appointment "
    "(or with original-appointment) and whose slot is the new one: the booking keeps its id. "
    "Cancel by update or JSON Patch of status to cancelled with cancelationReason. Writes take "
    "Idempotency-Key (or If-None-Exist): a retry answers with the first result."
)
IHE = "https://profiles.ihe.net/ITI/Scheduling/OperationDefinition"
JSON_PATCH = "application/json-patch+json"
_KEY = re.compile(KEY_PATTERN)


def _invalid(expression: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{expression}: {detail}", errors=[FieldError(expression, detail)])


def _retry_key(request: web.Request) -> str | None:
    """The Idempotency-Key, or a conditional create's If-None-Exist criteria as the key."""
    if "Idempotency-Key" in request.headers:
        key, name = request.headers["Idempotency-Key"], "Idempotency-Key"
    elif "If-None-Exist" in request.headers:
        key, name = "if-none-exist:" + request.headers["If-None-Exist"], "If-None-Exist"
    else:
        return None
    if not _KEY.match(key):
        raise BadRequest(
            f"{name} must be 1-255 visible ASCII characters",
            errors=[FieldError(name, "must be 1-255 visible ASCII characters")],
        )
    return key


Work = Callable[[asyncpg.Connection], Awaitable[tuple[int, dict[str, Any]]]]


async def once(request: web.Request, caller: Caller, canonical: Any, work: Work) -> web.Response:
    """Run a FHIR write in one transaction, once per retry key; a retry gets the first answer
    (`Idempotent-Replayed: true`). Only successes are kept, as in telehub.idempotency."""
    key = _retry_key(request)
    settings = request.app[SETTINGS]

    async def answer(conn: asyncpg.Connection) -> Answer:
        status, resource = await work(conn)
        return Answer(status, json.dumps(resource, separators=(",", ":")))

    async def attempt() -> tuple[Answer, bool]:
        async with connection(request.app[POOL], settings.db_acquire_timeout) as conn:
            if key is None:
                async with conn.transaction():
                    return await answer(conn), False
            text = json.dumps(canonical, sort_keys=True, separators=(",", ":"))
            print_ = fingerprint(request.method, request.path, text)
            return await run_once(conn, caller.client_id, key, print_, answer)

    result, replayed = await retrying(attempt)
    made = json.loads(result.body)
    headers = {"Idempotent-Replayed": "true"} if replayed else {}
    if result.status == 201:
        # FHIR's Location is absolute, with the version when the resource has one.
        where = f"{base_url(request)}/{made['resourceType']}/{made['id']}"
        version = (made.get("meta") or {}).get("versionId")
        headers["Location"] = f"{where}/_history/{version}" if version else where
    return fhir_response(made, status=result.status, headers=headers)


def _number(value: str | None, expression: str) -> int | None:
    if value is None:
        return None
    found = ids.parse_number_id(value)
    if found is None:
        raise _invalid(expression, "is not an id this server gave")
    return found


def _uuid(value: str | None, expression: str) -> uuid.UUID | None:
    if value is None:
        return None
    try:
        return uuid.UUID(value)
    except ValueError:
        raise _invalid(expression, "is not an id this server gave") from None


# $find


def _window(params: res.Params) -> Period:
    start, end = params.instant("start"), params.instant("end")
    if start is None:
        raise _invalid("start", "is required")
    if end is None:
        raise _invalid("end", "is required")
    if end <= start:
        raise _invalid("end", "must be after start")
    if end - start > availability.MAX_SEARCH:
        raise _invalid("end", f"must be within {availability.MAX_SEARCH.days} days of start")
    return Period(start, end)


@fhir.route(
    "POST",
    "/fhir/r4/Appointment/$find",
    name="fhir_appointment_find",
    scope="slots:read",
    capability=Capability(
        "Appointment",
        operation=OperationDef(
            "find",
            f"{IHE}/appointment-find",
            "Proposed Appointments (status proposed, each with its one Slot) for service-type "
            "in start..end, for a patient (Patient reference) or patient-state, optionally "
            "one practitioner.",
        ),
    ),
)
async def find(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Proposed Appointments: the open slots of a service in a period, for a patient's state."""
    params = res.Params.of(await read_resource(request, Parameters))
    service_id = _number(params.text("service-type"), "service-type")
    if service_id is None:
        raise _invalid("service-type", "is required")
    window = _window(params)
    patient_id = _uuid(params.reference("patient", "Patient"), "patient")
    consultant_id = _number(params.reference("practitioner", "Practitioner"), "practitioner")
    state = params.text("patient-state")
    async with unit_of_work(request) as conn:
        if patient_id is not None:
            patient = await patients.get(conn, caller, trail_of(request, caller), patient_id)
            state = patient.state
        try:
            found = await availability.search(
                conn,
                service_id=service_id,
                window=window,
                consultant_id=consultant_id,
                patient_state=state,
                now=now_of(request),
            )
        except ValidationFailed as exc:
            raise renamed(exc, _FIND_NAMES) from None
    return fhir_response(res.proposals([res.proposed_appointment(s, patient_id) for s in found]))


# The domain's JSON field names as the $find parameters they came from.
_FIND_NAMES = {
    "service_id": "service-type",
    "patient_state": "patient-state",
    "consultant_id": "practitioner",
    "patient_id": "patient",
}


def _slot_names(where: str) -> dict[str, str]:
    """The domain's JSON field names as the elements of the Appointment they came from."""
    slot = f"{where}.slot[0]"
    return {
        "start": slot,
        "service_id": slot,
        "consultant_id": slot,
        "patient_id": f"{where}.participant",
    }


# Booking: $hold, $book, create


def _hold_minutes(request: web.Request) -> float:
    """How long a hold lasts (TELEHUB_HOLD_MINUTES)."""
    return request.app[SETTINGS].hold_minutes


def _appointment_param(params: res.Params, *, required: bool) -> dict[str, Any] | None:
    wanted = params.resource("appointment-resource", "Appointment")
    if wanted is None and required:
        raise _invalid("appointment-resource", "is required")
    return wanted


@fhir.route(
    "POST",
    "/fhir/r4/Appointment/$hold",
    name="fhir_appointment_hold",
    scope="bookings:write",
    capability=Capability(
        "Appointment",
        operation=OperationDef(
            "hold",
            f"{IHE}/appointment-hold",
            "Hold a proposed Appointment's Slot for the clinic for a few minutes: a pending "
            f"Appointment (id hold-<uuid>) with its expiry in {res.HOLD_EXPIRES}.",
        ),
    ),
)
async def hold(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Hold a proposed Appointment's slot for a few minutes: a pending Appointment."""
    params = res.Params.of(await read_resource(request, Parameters))
    wanted = _appointment_param(params, required=True)
    assert wanted is not None
    key = res.slot_of(wanted, "appointment-resource")
    patient_id = res.patient_of(wanted, "appointment-resource")

    async def work(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        try:
            held = await holds.hold(
                conn,
                bookings.spoke_of(caller),
                trail_of(request, caller),
                holds.NewHold(key.service_id, key.consultant_id, key.start, patient_id=patient_id),
                now=now_of(request),
                minutes=_hold_minutes(request),
            )
        except (ValidationFailed, NotAnOpenSlot) as exc:
            raise renamed(exc, _slot_names("appointment-resource")) from None
        return 201, res.held_appointment(held)

    return await once(request, caller, params.parts, work)


async def _book_slot(
    request: web.Request,
    caller: Caller,
    conn: asyncpg.Connection,
    wanted: dict[str, Any],
    where: str,
) -> tuple[int, dict[str, Any]]:
    key = res.slot_of(wanted, where)
    patient_id = res.patient_of(wanted, where)
    if patient_id is None:
        raise _invalid(f"{where}.participant", "must include the Patient")
    new = bookings.NewBooking(
        key.service_id, key.consultant_id, patient_id, key.start, str(wanted.get("comment") or "")
    )
    try:
        booked = await bookings.book(
            conn,
            bookings.spoke_of(caller),
            trail_of(request, caller),
            new,
            now=now_of(request),
            video_url_template=request.app[SETTINGS].video_url_template,
        )
    except (ValidationFailed, NotAnOpenSlot) as exc:
        raise renamed(exc, _slot_names(where)) from None
    return 201, res.appointment(booked)


async def _book_hold(
    request: web.Request,
    caller: Caller,
    conn: asyncpg.Connection,
    hold_id: uuid.UUID,
    wanted: dict[str, Any] | None,
) -> tuple[int, dict[str, Any]]:
    """Book a held slot; the Patient is the hold's, or the appointment-resource's."""
    trail = trail_of(request, caller)
    held = await holds.get(conn, caller, trail, hold_id, now=now_of(request))
    patient_id = held.patient_id
    if wanted is not None:
        given = res.patient_of(wanted, "appointment-resource")
        if patient_id is not None and given not in (None, patient_id):
            raise _invalid("appointment-resource.participant", "is not the held Patient")
        patient_id = patient_id or given
    if patient_id is None:
        raise _invalid("appointment-resource.participant", "must include the Patient")
    new = bookings.NewBooking(held.service_id, held.consultant_id, patient_id, held.start)
    booked = await bookings.book(
        conn,
        bookings.spoke_of(caller),
        trail,
        new,
        now=now_of(request),
        video_url_template=request.app[SETTINGS].video_url_template,
        hold_id=held.id,
    )
    return 201, res.appointment(booked)


async def _reschedule(
    request: web.Request,
    caller: Caller,
    conn: asyncpg.Connection,
    booking_id: uuid.UUID,
    wanted: dict[str, Any],
    where: str,
) -> tuple[int, dict[str, Any]]:
    key = res.slot_of(wanted, where)
    trail = trail_of(request, caller)
    current = await bookings.get(conn, caller, trail, booking_id)
    if key.service_id != current.service_id:
        raise _invalid(f"{where}.slot[0]", "is a Slot of another service")
    try:
        moved = await moves.reschedule(
            conn,
            caller,
            trail,
            booking_id,
            start=key.start,
            consultant_id=key.consultant_id,
            now=now_of(request),
        )
    except (ValidationFailed, NotAnOpenSlot) as exc:
        raise renamed(exc, _slot_names(where)) from None
    return 200, res.appointment(moved)


@fhir.route(
    "POST",
    "/fhir/r4/Appointment/$book",
    name="fhir_appointment_book",
    scope="bookings:write",
    capability=Capability(
        "Appointment",
        operation=OperationDef(
            "book",
            f"{IHE}/appointment-book",
            "Book appointment-reference (a held Appointment/hold-<uuid>) or appointment-resource "
            "(a proposed or pending Appointment: one Slot, the Patient). With the id of a booked "
            "Appointment (or original-appointment) and a new Slot, the booking is moved.",
        ),
    ),
)
async def book(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Book a held or proposed Appointment, or move a booked one to a new Slot (IHE ITI)."""
    params = res.Params.of(await read_resource(request, Parameters))
    reference = params.reference("appointment-reference", "Appointment")
    wanted = _appointment_param(params, required=reference is None)
    original = params.reference("original-appointment", "Appointment")
    own_id = str(wanted["id"]) if wanted is not None and wanted.get("id") else None

    async def work(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        for given in (reference, own_id):
            if given is not None and (hold_id := res.hold_id_of(given)) is not None:
                return await _book_hold(request, caller, conn, hold_id, wanted)
        moving, where = original, "original-appointment"
        if moving is None:
            moving, where = own_id, "appointment-resource.id"
        if moving is None and reference is not None:
            moving, where = reference, "appointment-reference"
        if moving is not None:
            booking_id = _uuid(moving, where)
            assert booking_id is not None
            if wanted is None:
                raise _invalid("appointment-resource", "is required to move an Appointment")
            return await _reschedule(
                request, caller, conn, booking_id, wanted, "appointment-resource"
            )
        assert wanted is not None
        return await _book_slot(request, caller, conn, wanted, "appointment-resource")

    return await once(request, caller, params.parts, work)


@fhir.route(
    "POST",
    "/fhir/r4/Appointment",
    name="fhir_appointment_create",
    scope="bookings:write",
    capability=Capability(
        "Appointment",
        "create",
        documentation="status booked, exactly one slot and a Patient participant (as Oracle "
        "Health clients create appointments); Idempotency-Key or If-None-Exist.",
    ),
)
async def create(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Create a booked Appointment from one Slot and a Patient (Oracle Health's pattern)."""
    body = dumped(await read_resource(request, Appointment))
    if body.get("status") != "booked":
        raise _invalid("Appointment.status", "must be booked (hold a slot with $hold)")

    async def work(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        return await _book_slot(request, caller, conn, body, "Appointment")

    return await once(request, caller, body, work)


# Read, search


async def _read(
    request: web.Request, caller: Caller, conn: asyncpg.Connection, appointment_id: str
) -> dict[str, Any]:
    trail = trail_of(request, caller)
    if (hold_id := res.hold_id_of(appointment_id)) is not None:
        found = await holds.get(conn, caller, trail, hold_id, now=now_of(request))
        return res.held_appointment(found)
    try:
        booking_id = uuid.UUID(appointment_id)
    except ValueError:
        raise NotFound("no such Appointment") from None
    return res.appointment(await bookings.get(conn, caller, trail, booking_id))


@fhir.read("Appointment", name="fhir_appointment_read", scope="bookings:read")
async def read(request: web.Request, caller: Caller) -> web.StreamResponse:
    """One of the caller's Appointments (a booking, or a hold); another clinic's is 404."""
    async with unit_of_work(request) as conn:
        found = await _read(request, caller, conn, request.match_info["id"])
    return fhir_response(found)


_STATUS = {fhir_status: domain for domain, fhir_status in res.APPOINTMENT_STATUS.items()}
SEARCH = (
    SearchParam("patient", "reference", "The clinic's Patient (Patient/<id> or <id>)"),
    SearchParam("date", "date", "The start, with prefixes ge, gt, le, lt, eq (ANDed)"),
    SearchParam("status", "token", "booked, cancelled, fulfilled or noshow"),
    SearchParam("practitioner", "reference", "The consultant (Practitioner/<id> or <id>)"),
    SearchParam("service-type", "token", f"The service ({SERVICE_SYSTEM}|<id> or <id>)"),
)


_LAST_ID = uuid.UUID(int=2**128 - 1)


def _starting_at(lower: datetime | None) -> tuple[datetime, uuid.UUID] | None:
    """`date` is the Appointment's start: start >= lower, as the store's keyset position just
    before it (timestamptz has microseconds: nothing starts between)."""
    return None if lower is None else (lower - timedelta(microseconds=1), _LAST_ID)


def _reference(value: str | None, kind: str) -> str | None:
    return value.removeprefix(f"{kind}/") if value is not None else None


@fhir.search("Appointment", name="fhir_appointment_search", scope="bookings:read", params=SEARCH)
async def search(request: web.Request, caller: Caller) -> web.StreamResponse:
    """The caller's bookings by start time: patient, date, status, practitioner, service-type."""
    query = search_query(request, SEARCH)
    status = query.one("status")
    if status is not None:
        status = token("status", status)
        if status not in _STATUS:
            raise bad_parameter("status", f"must be one of {', '.join(sorted(_STATUS))}")
    bounds = date_bounds("date", query.all("date"))
    patient_id = _uuid(_reference(query.one("patient"), "Patient"), "patient")
    consultant_id = _number(_reference(query.one("practitioner"), "Practitioner"), "practitioner")
    service = query.one("service-type")
    service_id = (
        _number(token("service-type", service, SERVICE_SYSTEM), "service-type") if service else None
    )
    async with unit_of_work(request) as conn:
        # One more than the page says whether another follows; only the page is read (audited).
        found = await bs.list_bookings(
            conn,
            bookings.visibility(caller),
            start=None,
            end=bounds.upper,  # start < upper
            status=_STATUS[status] if status else None,
            patient_id=patient_id,
            consultant_id=consultant_id,
            service_id=service_id,
            after=_starting_at(bounds.lower),
            limit=query.offset + query.count + 1,
        )
        page = found[query.offset : query.offset + query.count]
        trail = trail_of(request, caller)
        for spoke_id in {b.spoke_id for b in page}:
            await audit.record(
                conn,
                trail,
                "read",
                "booking",
                [b.id for b in page if b.spoke_id == spoke_id],
                spoke_id,
            )
    more = len(found) > query.offset + query.count
    bundle = searchset(
        request,
        [res.appointment(b) for b in page],
        total=None,
        next_offset=query.offset + query.count if more else None,
    )
    return fhir_response(bundle)


# Cancel (and move) by update


def _cancel_reason(wanted: dict[str, Any], where: str) -> str:
    given = wanted.get("cancelationReason") or {}
    reason = str(given.get("text") or "").strip()
    if not reason:
        coding = (given.get("coding") or [{}])[0]
        reason = str(coding.get("display") or coding.get("code") or "").strip()
    if not reason:
        raise _invalid(f"{where}.cancelationReason", "is required to cancel")
    return reason


async def _update(
    request: web.Request,
    caller: Caller,
    conn: asyncpg.Connection,
    appointment_id: str,
    wanted: dict[str, Any],
) -> tuple[int, dict[str, Any]]:
    trail = trail_of(request, caller)
    status = wanted.get("status")
    if (hold_id := res.hold_id_of(appointment_id)) is not None:
        if status != "cancelled":
            raise _invalid("Appointment.status", "a pending Appointment is booked with $book")
        ended = await holds.release(conn, caller, trail, hold_id, now=now_of(request))
        return 200, res.held_appointment(ended)
    try:
        booking_id = uuid.UUID(appointment_id)
    except ValueError:
        raise NotFound("no such Appointment") from None
    current = res.appointment(await bookings.get(conn, caller, trail, booking_id))
    if status == "cancelled":
        reason = _cancel_reason(wanted, "Appointment")
        cancelled = await bookings.cancel(
            conn, caller, trail, booking_id, reason=reason, now=now_of(request)
        )
        return 200, res.appointment(cancelled)
    if status != current["status"]:
        raise _invalid("Appointment.status", "can only change to cancelled")
    if wanted.get("slot") != current["slot"]:
        return await _reschedule(request, caller, conn, booking_id, wanted, "Appointment")
    return 200, current


@fhir.route(
    "PUT",
    "/fhir/r4/Appointment/{id}",
    name="fhir_appointment_update",
    scope="bookings:write",
    capability=Capability(
        "Appointment",
        "update",
        documentation="Cancel: status cancelled with cancelationReason (a pending one releases "
        "the hold); move: another slot. Nothing else changes.",
    ),
)
async def update(request: web.Request, caller: Caller) -> web.StreamResponse:
    """Cancel (status `cancelled` with `cancelationReason`), or move to another `slot`."""
    appointment_id = request.match_info["id"]
    body = dumped(await read_resource(request, Appointment))
    if body.get("id") != appointment_id:
        raise _invalid("Appointment.id", "must be the id in the URL")

    async def work(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        return await _update(request, caller, conn, appointment_id, body)

    return await once(request, caller, body, work)


_PATCHABLE = re.compile(r"^/(status|cancelationReason)(/.*)?$")


def apply_patch(resource: dict[str, Any], operations: Any) -> dict[str, Any]:
    """RFC 6902 JSON Patch limited to what may change: `status` and `cancelationReason`."""
    if not isinstance(operations, list) or not operations:
        raise BadRequest(
            "the body must be a JSON Patch: an array of operations",
            errors=[FieldError("body", "must be a non-empty JSON Patch array")],
        )
    patched: dict[str, Any] = json.loads(json.dumps(resource))
    for n, op in enumerate(operations):
        if not isinstance(op, dict) or op.get("op") not in ("add", "replace", "remove", "test"):
            raise _invalid(f"[{n}].op", "must be add, replace, remove or test")
        path = op.get("path")
        if not isinstance(path, str) or not _PATCHABLE.match(path):
            raise _invalid(f"[{n}].path", "only /status and /cancelationReason may change")
        parts = [p.replace("~1", "/").replace("~0", "~") for p in path.split("/")[1:]]
        parent: Any = patched
        for part in parts[:-1]:
            if not isinstance(parent, dict) or part not in parent:
                raise _invalid(f"[{n}].path", "does not exist")
            parent = parent[part]
        leaf = parts[-1]
        if not isinstance(parent, dict):
            raise _invalid(f"[{n}].path", "does not exist")
        if op["op"] == "test":
            if parent.get(leaf) != op.get("value"):
                raise Conflict(f"JSON Patch test failed at {path}")
        elif op["op"] == "remove":
            if leaf not in parent:
                raise _invalid(f"[{n}].path", "does not exist")
            del parent[leaf]
        else:
            if "value" not in op:
                raise _invalid(f"[{n}].value", "is required")
            parent[leaf] = op["value"]
    return patched


async def _patch_body(request: web.Request) -> Any:
    if request.content_type != JSON_PATCH:
        raise BadRequest(
            f"send {JSON_PATCH}", errors=[FieldError("Content-Type", f"must be {JSON_PATCH}")]
        )
    try:
        return json.loads(await request.read())
    except (ValueError, UnicodeDecodeError):
        raise BadRequest(
            "the body is not JSON", errors=[FieldError("body", "must be JSON")]
        ) from None


@fhir.route(
    "PATCH",
    "/fhir/r4/Appointment/{id}",
    name="fhir_appointment_patch",
    scope="bookings:write",
    capability=Capability(
        "Appointment",
        "patch",
        documentation=f"{JSON_PATCH} of /status (to cancelled) and /cancelationReason only.",
    ),
)
async def patch(request: web.Request, caller: Caller) -> web.StreamResponse:
    """JSON Patch of `status` (to `cancelled`) and `cancelationReason`."""
    appointment_id = request.match_info["id"]
    operations = await _patch_body(request)

    async def work(conn: asyncpg.Connection) -> tuple[int, dict[str, Any]]:
        current = await _read(request, caller, conn, appointment_id)
        wanted = apply_patch(current, operations)
        res.validate_appointment(wanted, "Appointment")
        return await _update(request, caller, conn, appointment_id, wanted)

    return await once(request, caller, operations, work)
