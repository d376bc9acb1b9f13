"""The note of a video session or case review, and signing any saved draft."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import Field

from consults import notes
from consults.note_store import Subject
from consults.schemas import NoteIn
from hub import views
from hub.pages.common import consultant_user, zone_label
from hub.pages.econsult_view import econsult_page
from hub.pages.note_editor import (
    editor,
    notice_for,
    read_note_form,
    save_note,
    sign_note,
    subject_of,
    typed_of,
)
from scheduling import next_session
from scheduling.bookings import TimeNotOpen
from telehub import forms
from telehub.errors import SlotTaken, ValidationFailed
from telehub.fields import Instant
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import Input
from telehub.web import local_time, render, see_other, url_for, utc_text

routes = web.RouteTableDef()


async def booking_page(
    request: web.Request,
    booking_id: uuid.UUID,
    *,
    note: forms.Filled[NoteIn] | None = None,
    amend: bool = False,
    status: int = 200,
) -> web.Response:
    """The session and its note; an e-consult review block sends you to its case."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        shown = await views.session(conn, caller, trail_of(request, caller), booking_id)
    if shown.econsult_id is not None:
        raise web.HTTPSeeOther(_page_of(request, Subject(econsult_id=shown.econsult_id)))
    booking = shown.booking
    return render(
        request,
        "hub/booking_note.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "booking": booking,
            "patient": shown.patient,
            "spoke": shown.spoke,
            "service": shown.service,
            "editor": editor(
                shown.versions,
                note,
                amend=amend,
                action=url_for(request, "hub_booking_note_save", id=booking.id),
                counseling=True,
            ),
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
    typed, note_id, action = await read_note_form(request)
    subject = Subject(booking_id=booking_id)
    outcome = await save_note(request, user, subject, typed, note_id, sign=action == "sign")
    if outcome.note is None:
        return await booking_page(request, booking_id, note=outcome.retry, status=outcome.status)
    notice = notice_for(outcome.note, signed=outcome.note.signed_at is not None)
    raise await see_other(request, _page_of(request, subject), notice)


async def _subject_page(
    request: web.Request, subject: Subject, typed: forms.Filled[NoteIn], status: int
) -> web.Response:
    if subject.econsult_id is not None:
        return await econsult_page(request, subject.econsult_id, note=typed, status=status)
    assert subject.booking_id is not None
    return await booking_page(request, subject.booking_id, note=typed, status=status)


def _page_of(request: web.Request, subject: Subject) -> str:
    if subject.econsult_id is not None:
        return url_for(request, "hub_econsult", id=subject.econsult_id) + "#note"
    return url_for(request, "hub_booking_note", id=subject.booking_id) + "#note"


@routes.post("/hub/notes/{id}/sign", name="hub_note_sign")
async def sign(request: web.Request) -> web.Response:
    """Sign a draft as saved (or with the sections the form sends): final, and sent."""
    user, _ = consultant_user(request)
    note_id = uuid_param(request, "id")
    typed, _, _ = await read_note_form(request)
    caller = user.caller
    async with unit_of_work(request) as conn:
        note = await notes.get(conn, caller, trail_of(request, caller), note_id)
    subject = subject_of(note)
    if typed.values:
        outcome = await save_note(request, user, subject, typed, note.id, sign=True)
    else:
        saved = forms.Filled[NoteIn](None, typed_of(note.sections))
        outcome = await sign_note(request, user, note, saved)
    if outcome.note is None:
        assert outcome.retry is not None
        return await _subject_page(request, subject, outcome.retry, outcome.status)
    raise await see_other(
        request, _page_of(request, subject), notice_for(outcome.note, signed=True)
    )


class NextIn(Input):
    """The next session's time, as the "book the next one" form posts it."""

    start: Instant
    weeks: int = Field(1, ge=1, le=2)


NEXT_INPUTS = ("start",)
NEXT_LABELS = {"start": "Time of the next session", "weeks": "Weeks later"}


def _weeks(text: str | None) -> int:
    """One or two weeks later: anything else is the form's one-week default."""
    return 2 if text == "2" else 1


async def next_page(
    request: web.Request,
    booking_id: uuid.UUID,
    weeks: int,
    *,
    problem: str | None = None,
    errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """The same time one or two weeks on: book it, or why not and the nearest open times."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        proposal = await next_session.propose(
            conn, caller, trail_of(request, caller), booking_id, weeks=weeks, now=now
        )
        shown = await views.session(conn, caller, trail_of(request, caller), booking_id)
    return render(
        request,
        "hub/booking_next.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "next": proposal,
            "patient": shown.patient,
            "utc_text": utc_text,
            "problem": problem,
            "errors": errors or {},
            "labels": NEXT_LABELS,
        },
        status=status,
    )


@routes.get("/hub/bookings/{id}/next", name="hub_booking_next")
async def booking_next(request: web.Request) -> web.Response:
    """Book the next one: the same time a week (or two) later, open or why not."""
    return await next_page(request, uuid_param(request, "id"), _weeks(request.query.get("weeks")))


@routes.post("/hub/bookings/{id}/next", name="hub_booking_next_post")
async def book_next(request: web.Request) -> web.Response:
    """Book the chosen next session for the clinic; a refused time says why, nothing booked."""
    user, consultant_id = consultant_user(request)
    booking_id = uuid_param(request, "id")
    typed = await forms.typed_form(request)
    weeks = _weeks(typed.get("weeks"))
    parsed, errors = forms.check(NextIn, forms.pick(typed, ("start", "weeks")), NEXT_INPUTS)
    if parsed is None:
        return await next_page(request, booking_id, weeks, errors=errors, status=422)
    caller, settings = user.caller, request.app[SETTINGS]
    try:
        async with unit_of_work(request) as conn:
            consultant = await views.consultant(conn, consultant_id)
            booked = await next_session.book_next(
                conn,
                caller,
                trail_of(request, caller),
                booking_id,
                start=parsed.start,
                now=now_of(request),
                video_url_template=settings.video_url_template,
            )
    except SlotTaken:
        problem = "Another booking took this time a moment ago. Nothing was booked."
        return await next_page(request, booking_id, weeks, problem=problem, status=409)
    except TimeNotOpen as closed:
        problem = f"This time is not open. {closed.words} Nothing was booked."
        return await next_page(request, booking_id, weeks, problem=problem, status=422)
    except ValidationFailed as failed:
        errors = forms.errors_of(failed, NEXT_INPUTS)
        return await next_page(request, booking_id, weeks, errors=errors, status=422)
    when = local_time(booked.start, consultant.timezone)
    raise await see_other(
        request,
        url_for(request, "hub_booking_note", id=booked.id),
        f"Booked the next session for {when}.",
    )
