"""Consents API: a patient's Part 2 consents, their revocation and their signed form.

Used by the patient's clinic and the hub; another clinic's patient or consent answers 404.
"""

from __future__ import annotations

from datetime import date
from email.message import Message
from urllib.parse import quote

import asyncpg
from aiohttp import web

from spokes import consent_rules, consents
from spokes.consent_schemas import (
    ConsentIn,
    ConsentOut,
    ConsentsOut,
    RecordedOut,
    RevokedOut,
    RevokeIn,
    consent_out,
)
from spokes.consent_store import Consent
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.idempotency import idempotent
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="consents")

_CHUNK = 64 * 1024


async def _today(conn: asyncpg.Connection, request: web.Request, consent: Consent) -> date:
    return await consents.clinic_today(conn, consent.spoke_id, now_of(request))


@api.operation(
    "POST",
    "/api/v1/patients/{id}/consents",
    name="record_consent",
    summary="Record a patient's Part 2 consent",
    scope="consents:write",
    input=ConsentIn,
    output=RecordedOut,
    status=201,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
    headers={"Idempotency-Key": "optional"},
    location=at("/api/v1/consents/{id}"),
)
async def record_consent(request: web.Request, caller: Caller, body: ConsentIn) -> web.Response:
    """Record the consent the patient signed (by the patient's clinic or the hub). The
    patient's held notes it covers are released at once, in signing order, each once.
    422 naming the field: an expiry before signing, a signing date after today at the
    clinic, a recipient that is not a network clinic, a blank named recipient, a tpo or
    specific consent listing counseling notes (they need their own consent)."""
    patient_id = uuid_param(request, "id")
    trail = trail_of(request, caller)
    now = now_of(request)

    async def work(conn: asyncpg.Connection) -> RecordedOut:
        done = await consents.record(
            conn,
            caller,
            trail,
            patient_id,
            **body.model_dump(),
            base_url=request.app[SETTINGS].base_url,
            now=now,
        )
        today = await _today(conn, request, done.consent)
        return RecordedOut(**consent_out(done.consent, today), released=done.released)

    return await idempotent(request, caller, body, work, status=201, key_required=False)


@api.operation(
    "GET",
    "/api/v1/patients/{id}/consents",
    name="list_consents",
    summary="A patient's consents with their status",
    scope="consents:read",
    input=NoInput,
    output=ConsentsOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def list_consents(request: web.Request, caller: Caller, _: NoInput) -> ConsentsOut:
    """The patient's consents, newest signed first, each with its status on the clinic's
    today (active, expiring within 30 days, expired, revoked, not yet in force), and the
    patient's overall status (active, expiring, revoked, none)."""
    patient_id = uuid_param(request, "id")
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        today = await consents.patient_today(conn, caller, patient_id, now_of(request))
        found = await consents.of_patient(conn, caller, trail, patient_id)
    return ConsentsOut(
        status=consent_rules.overall(found, today),
        consents=[ConsentOut(**consent_out(c, today)) for c in found],
    )


@api.operation(
    "GET",
    "/api/v1/consents/{id}",
    name="get_consent",
    summary="One consent",
    scope="consents:read",
    input=NoInput,
    output=ConsentOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_consent(request: web.Request, caller: Caller, _: NoInput) -> ConsentOut:
    """A consent of one of the caller's patients (the hub: any)."""
    consent_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        consent = await consents.get(conn, caller, trail_of(request, caller), consent_id)
        today = await _today(conn, request, consent)
    return ConsentOut(**consent_out(consent, today))


@api.operation(
    "POST",
    "/api/v1/consents/{id}/revoke",
    name="revoke_consent",
    summary="Record the patient's revocation of a consent",
    scope="consents:write",
    input=RevokeIn,
    output=RevokedOut,
    errors=(404, 409, 422),
    path_params={"id": "uuid"},
)
async def revoke_consent(request: web.Request, caller: Caller, body: RevokeIn) -> RevokedOut:
    """From this request's commit nothing more is sent under the consent: its notes not yet
    sent go under another consent in force, or are held. A delivery already under way may
    finish. What was disclosed stays disclosed, and in the accounting. 409 if it was
    revoked already."""
    consent_id = uuid_param(request, "id")
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        done = await consents.revoke(
            conn,
            caller,
            trail,
            consent_id,
            revoked_on=body.revoked_on,
            how=body.how,
            base_url=request.app[SETTINGS].base_url,
            now=now_of(request),
        )
        today = await _today(conn, request, done.consent)
    return RevokedOut(**consent_out(done.consent, today), held=done.held)


async def _read_capped(request: web.Request) -> bytes:
    """The raw body, read as a stream up to the form's limit (the app's own limit is far
    smaller); over it, 413 before reading more."""
    declared = request.content_length
    if declared is not None and declared > consents.MAX_FORM_BYTES:
        raise consents.too_large()
    chunks: list[bytes] = []
    size = 0
    while chunk := await request.content.read(_CHUNK):
        size += len(chunk)
        if size > consents.MAX_FORM_BYTES:
            raise consents.too_large()
        chunks.append(chunk)
    return b"".join(chunks)


@api.operation(
    "PUT",
    "/api/v1/consents/{id}/form",
    name="put_consent_form",
    summary="Upload the consent's signed form",
    scope="consents:write",
    input=NoInput,
    output=ConsentOut,
    errors=(404, 409, 413, 422),
    path_params={"id": "uuid"},
    raw_body=tuple(consents.FORM_TYPES),
)
async def put_consent_form(request: web.Request, caller: Caller, _: NoInput) -> ConsentOut:
    """The signed form as the raw body: Content-Type application/pdf, image/png or
    image/jpeg (the file's bytes must agree; another type is a 422 naming `form`), at most
    5 MB (413 naming `form`); a file name may be given as the Content-Disposition filename.
    One form per consent: 409 if it has one. Nothing is stored on any refusal."""
    consent_id = uuid_param(request, "id")
    kind = request.content_type
    if kind not in consents.FORM_TYPES:
        raise consents.wrong_type()
    data = await _read_capped(request)
    filename = _disposition_filename(request)
    async with unit_of_work(request) as conn:
        consent = await consents.attach_form(
            conn,
            caller,
            trail_of(request, caller),
            consent_id,
            content_type=kind,
            filename=filename,
            data=data,
        )
        today = await _today(conn, request, consent)
    return ConsentOut(**consent_out(consent, today))


def _disposition_filename(request: web.Request) -> str | None:
    header = request.headers.get("Content-Disposition")
    if not header:
        return None
    message = Message()
    message["Content-Disposition"] = header
    name = message.get_filename()
    return name if isinstance(name, str) else None


@api.operation(
    "GET",
    "/api/v1/consents/{id}/form",
    name="get_consent_form",
    summary="Download the consent's signed form",
    scope="consents:read",
    input=NoInput,
    output=None,
    errors=(404,),
    path_params={"id": "uuid"},
    answers_also=tuple(consents.FORM_TYPES),
)
async def get_consent_form(request: web.Request, caller: Caller, _: NoInput) -> web.Response:
    """The signed form as uploaded, as an attachment (the patient's clinic and the hub only)."""
    consent_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        found = await consents.form(conn, caller, trail_of(request, caller), consent_id)
    response = web.Response(body=found.data, content_type=found.content_type)
    response.headers["Content-Disposition"] = _attachment(found.filename)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment(filename: str) -> str:
    """An attachment header that names the file safely (RFC 6266 with RFC 8187 filename*)."""
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 and ch not in '"\\' else "_" for ch in filename)
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"
