"""Notes API: drafting, signing and amending consult notes; the clinic's inbox."""

from __future__ import annotations

from aiohttp import web

from consults import notes
from consults.note_store import Note, Subject
from consults.notes import Shown
from consults.schemas import NoteIn, NoteOut, NoteQuery, NotesOut, Part2Out
from telehub.api import ApiRoutes, at
from telehub.auth import Caller
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput

api = ApiRoutes(tag="notes")
ID = {"id": "uuid"}


def note_out(n: Note) -> NoteOut:
    """The API view of a note version: for a clinic (a `Shown`), held without its sections,
    or disclosed with the Part 2 block beside them."""
    held = isinstance(n, Shown) and n.held
    part2 = n.part2 if isinstance(n, Shown) else None
    return NoteOut(
        id=n.id,
        econsult_id=n.econsult_id,
        booking_id=n.booking_id,
        group_seat_id=n.group_seat_id,
        recommendation_id=n.recommendation_id,
        spoke_id=n.spoke_id,
        patient_id=n.patient_id,
        consultant_id=n.consultant_id,
        version=n.version,
        kind=n.kind,
        status="held" if held else "signed" if n.signed_at else "draft",
        sections=None if held else n.sections,
        waiting_for=n.waiting_for if isinstance(n, Shown) else None,
        part2=Part2Out.model_validate(part2) if part2 is not None else None,
        created_at=n.created_at,
        updated_at=n.updated_at,
        signed_at=n.signed_at,
        acknowledged_at=n.acknowledged_at,
    )


async def _draft(request: web.Request, caller: Caller, body: NoteIn, subject: Subject) -> NoteOut:
    async with unit_of_work(request) as conn:
        note = await notes.start_draft(
            conn, caller, trail_of(request, caller), subject, body.sections.model_dump(), body.kind
        )
    return note_out(note)


async def _versions(request: web.Request, caller: Caller, subject: Subject) -> NotesOut:
    async with unit_of_work(request) as conn:
        found = await notes.versions(
            conn, caller, trail_of(request, caller), subject, channel="api", now=now_of(request)
        )
    return NotesOut(notes=[note_out(n) for n in found])


@api.operation(
    "POST",
    "/api/v1/econsults/{id}/notes",
    name="draft_econsult_note",
    summary="Draft the e-consult's note (an amendment once a version is signed)",
    scope="notes:write",
    input=NoteIn,
    output=NoteOut,
    status=201,
    location=at("/api/v1/notes/{id}"),
    errors=(404, 409, 422),
    path_params=ID,
)
async def draft_econsult_note(request: web.Request, caller: Caller, body: NoteIn) -> NoteOut:
    """Start a draft answer to the e-consult."""
    return await _draft(request, caller, body, Subject(econsult_id=uuid_param(request, "id")))


@api.operation(
    "GET",
    "/api/v1/econsults/{id}/notes",
    name="list_econsult_notes",
    summary="Every version of the e-consult's note",
    scope="notes:read",
    input=NoInput,
    output=NotesOut,
    errors=(404,),
    path_params=ID,
)
async def list_econsult_notes(request: web.Request, caller: Caller, _: NoInput) -> NotesOut:
    """Versions, oldest first (a clinic sees signed ones)."""
    return await _versions(request, caller, Subject(econsult_id=uuid_param(request, "id")))


@api.operation(
    "POST",
    "/api/v1/bookings/{id}/notes",
    name="draft_booking_note",
    summary="Draft the note of a video session or case review",
    scope="notes:write",
    input=NoteIn,
    output=NoteOut,
    status=201,
    location=at("/api/v1/notes/{id}"),
    errors=(404, 409, 422),
    path_params=ID,
)
async def draft_booking_note(request: web.Request, caller: Caller, body: NoteIn) -> NoteOut:
    """Start a draft note for a booked session."""
    return await _draft(request, caller, body, Subject(booking_id=uuid_param(request, "id")))


@api.operation(
    "GET",
    "/api/v1/bookings/{id}/notes",
    name="list_booking_notes",
    summary="Every version of a session's note",
    scope="notes:read",
    input=NoInput,
    output=NotesOut,
    errors=(404,),
    path_params=ID,
)
async def list_booking_notes(request: web.Request, caller: Caller, _: NoInput) -> NotesOut:
    """Versions, oldest first (a clinic sees signed ones)."""
    return await _versions(request, caller, Subject(booking_id=uuid_param(request, "id")))


@api.operation(
    "POST",
    "/api/v1/recommendations/{id}/notes",
    name="draft_recommendation_note",
    summary="Draft an amendment of a case review recommendation's note",
    scope="notes:write",
    input=NoteIn,
    output=NoteOut,
    status=201,
    location=at("/api/v1/notes/{id}"),
    errors=(404, 409, 422),
    path_params=ID,
)
async def draft_recommendation_note(request: web.Request, caller: Caller, body: NoteIn) -> NoteOut:
    """Its first version is signed with the recommendation; this drafts the next one."""
    return await _draft(request, caller, body, Subject(recommendation_id=uuid_param(request, "id")))


@api.operation(
    "GET",
    "/api/v1/recommendations/{id}/notes",
    name="list_recommendation_notes",
    summary="Every version of a case review recommendation's note",
    scope="notes:read",
    input=NoInput,
    output=NotesOut,
    errors=(404,),
    path_params=ID,
)
async def list_recommendation_notes(request: web.Request, caller: Caller, _: NoInput) -> NotesOut:
    """Versions, oldest first (a clinic sees signed ones)."""
    return await _versions(request, caller, Subject(recommendation_id=uuid_param(request, "id")))


@api.operation(
    "PUT",
    "/api/v1/notes/{id}",
    name="edit_note",
    summary="Edit a draft (signed: 409)",
    scope="notes:write",
    input=NoteIn,
    output=NoteOut,
    errors=(404, 409, 422),
    path_params=ID,
)
async def edit_note(request: web.Request, caller: Caller, body: NoteIn) -> NoteOut:
    """Replace a draft's sections."""
    async with unit_of_work(request) as conn:
        edited = await notes.edit_draft(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            body.sections.model_dump(),
            body.kind,
        )
    return note_out(edited)


@api.operation(
    "POST",
    "/api/v1/notes/{id}/sign",
    name="sign_note",
    summary="Sign a draft: final from now on, and sent to the clinic",
    scope="notes:write",
    input=NoInput,
    output=NoteOut,
    errors=(404, 409, 422),
    path_params=ID,
)
async def sign_note(request: web.Request, caller: Caller, _: NoInput) -> NoteOut:
    """Sign; the outbox event is written in the same transaction."""
    async with unit_of_work(request) as conn:
        signed = await notes.sign(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            base_url=request.app[SETTINGS].base_url,
            now=now_of(request),
        )
    return note_out(signed)


@api.operation(
    "GET",
    "/api/v1/notes",
    name="list_notes",
    summary="Signed notes for the clinic (its inbox); ?acknowledged=false for open loops. "
    "A note waiting for the patient's consent is listed as held, without its sections",
    scope="notes:read",
    input=NoteQuery,
    output=NotesOut,
    errors=(422,),
)
async def list_notes(request: web.Request, caller: Caller, query: NoteQuery) -> NotesOut:
    """The inbox, oldest signature first."""
    async with unit_of_work(request) as conn:
        found = await notes.inbox(
            conn,
            caller,
            trail_of(request, caller),
            acknowledged=query.acknowledged,
            limit=query.limit,
            channel="api",
            now=now_of(request),
        )
    return NotesOut(notes=[note_out(n) for n in found])


@api.operation(
    "GET",
    "/api/v1/notes/{id}",
    name="get_note",
    summary="One note version",
    scope="notes:read",
    input=NoInput,
    output=NoteOut,
    errors=(404,),
    path_params=ID,
)
async def get_note(request: web.Request, caller: Caller, _: NoInput) -> NoteOut:
    """A note the caller may see (another clinic's, or a draft to a clinic: 404)."""
    async with unit_of_work(request) as conn:
        found = await notes.get(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            channel="api",
            now=now_of(request),
        )
    return note_out(found)


@api.operation(
    "POST",
    "/api/v1/notes/{id}/acknowledge",
    name="acknowledge_note",
    summary="The clinic has the note: the loop closes (a held note: 409)",
    scope="notes:acknowledge",
    input=NoInput,
    output=NoteOut,
    errors=(404, 409),
    path_params=ID,
)
async def acknowledge_note(request: web.Request, caller: Caller, _: NoInput) -> NoteOut:
    """Acknowledge a signed note (again: no change)."""
    async with unit_of_work(request) as conn:
        done = await notes.acknowledge(
            conn,
            caller,
            trail_of(request, caller),
            uuid_param(request, "id"),
            now=now_of(request),
        )
    return note_out(done)
