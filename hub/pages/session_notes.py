"""The note of a video session or case review, and signing any saved draft."""

from __future__ import annotations

import uuid

from aiohttp import web

from consults import notes
from consults import store as consults_store
from consults.note_store import Subject
from hub.pages.common import STATUS_LABELS, consultant_of, consultant_user, zone_label
from hub.pages.econsult_view import econsult_page
from hub.pages.note_editor import (
    Typed,
    editor,
    notice_for,
    read_note_form,
    save_note,
    sign_note,
    subject_of,
    typed_of,
)
from scheduling import bookings
from scheduling import store as scheduling_store
from spokes import store as spokes_store
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import render, see_other

routes = web.RouteTableDef()


async def booking_page(
    request: web.Request,
    booking_id: uuid.UUID,
    *,
    note: Typed | None = None,
    amend: bool = False,
    status: int = 200,
) -> web.Response:
    """The session and its note; an e-consult review block sends you to its case."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        consultant = await consultant_of(conn, consultant_id)
        booking = await bookings.get(conn, caller, trail, booking_id)
        case = (await consults_store.econsults_by_booking(conn, [booking.id])).get(booking.id)
        if case is not None:
            raise web.HTTPSeeOther(f"/hub/econsults/{case}#note")
        versions = await notes.versions(conn, caller, trail, Subject(booking_id=booking.id))
        patients = await spokes_store.patients_by_id(conn, None, [booking.patient_id])
        spoke = await spokes_store.get_spoke(conn, booking.spoke_id)
        service = await scheduling_store.get_service(conn, booking.service_id)
    return render(
        request,
        "hub/booking_note.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "booking": booking,
            "patient": patients.get(booking.patient_id),
            "spoke": spoke,
            "service": service,
            "editor": editor(
                versions, note, amend=amend, action=f"/hub/bookings/{booking.id}/note"
            ),
            "labels": STATUS_LABELS,
        },
        status=status,
    )


@routes.get("/hub/bookings/{id}/note", name="hub_booking_note")
async def booking_note(request: web.Request) -> web.Response:
    """A session's note: the draft, or the signed versions and a way to amend."""
    return await booking_page(
        request, uuid_param(request, "id"), amend=request.query.get("amend") == "1"
    )


@routes.post("/hub/bookings/{id}/note", name="hub_booking_note_save")
async def save_booking_note(request: web.Request) -> web.Response:
    """Save the session's note as a draft, or save and sign it."""
    user, _ = consultant_user(request)
    booking_id = uuid_param(request, "id")
    typed, note_id, action = read_note_form(await request.post())
    outcome = await save_note(
        request, user, Subject(booking_id=booking_id), typed, note_id, sign=action == "sign"
    )
    if outcome.note is None:
        return await booking_page(request, booking_id, note=outcome.retry, status=outcome.status)
    notice = notice_for(outcome.note, signed=outcome.note.signed_at is not None)
    raise await see_other(request, f"/hub/bookings/{booking_id}/note#note", notice)


async def _subject_page(
    request: web.Request, subject: Subject, typed: Typed, status: int
) -> web.Response:
    if subject.econsult_id is not None:
        return await econsult_page(request, subject.econsult_id, note=typed, status=status)
    assert subject.booking_id is not None
    return await booking_page(request, subject.booking_id, note=typed, status=status)


def _page_of(subject: Subject) -> str:
    if subject.econsult_id is not None:
        return f"/hub/econsults/{subject.econsult_id}#note"
    return f"/hub/bookings/{subject.booking_id}/note#note"


@routes.post("/hub/notes/{id}/sign", name="hub_note_sign")
async def sign(request: web.Request) -> web.Response:
    """Sign a draft as saved (or with the sections the form sends): final, and sent."""
    user, _ = consultant_user(request)
    note_id = uuid_param(request, "id")
    typed, _, _ = read_note_form(await request.post())
    caller = user.caller
    async with unit_of_work(request) as conn:
        note = await notes.get(conn, caller, trail_of(request, caller), note_id)
    subject = subject_of(note)
    if typed.values:
        outcome = await save_note(request, user, subject, typed, note.id, sign=True)
    else:
        outcome = await sign_note(request, user, note, Typed(typed_of(note.sections)))
    if outcome.note is None:
        assert outcome.retry is not None
        return await _subject_page(request, subject, outcome.retry, outcome.status)
    raise await see_other(request, _page_of(subject), notice_for(outcome.note, signed=True))
