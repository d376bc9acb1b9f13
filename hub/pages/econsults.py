"""The consultant's e-consult worklist, and one case: reading it, writing to the clinic, its note.

The case page itself is rendered by `econsult_view`, which signing a note shows again too.
"""

from __future__ import annotations

from aiohttp import web

from consults import econsults
from consults.note_store import Subject
from consults.schemas import MessageIn
from hub import views
from hub.pages.common import consultant_user, zone_label
from hub.pages.econsult_view import econsult_page
from hub.pages.note_editor import notice_for, read_note_form, save_note
from telehub import forms
from telehub.errors import Conflict, FieldError, ValidationFailed
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import render, see_other, url_for

routes = web.RouteTableDef()
MESSAGE_INPUTS = ("message", "body", "asks_clinic")


@routes.get("/hub/worklist", name="hub_worklist")
async def worklist(request: web.Request) -> web.Response:
    """E-consults assigned to me, soonest due first, overdue ones marked."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        consultant = await views.consultant(conn, consultant_id)
        shown = await views.worklist(conn, caller, trail, now)
    return render(
        request,
        "hub/worklist.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "open": shown.open,
            "answered": shown.answered,
            "overdue": shown.overdue,
            "paused": sum(1 for e in shown.open if e.status == "awaiting_clinic"),
            "patients": shown.patients,
            "spokes": shown.spokes,
        },
    )


@routes.get("/hub/econsults/{id}", name="hub_econsult")
async def econsult(request: web.Request) -> web.Response:
    """One e-consult assigned to me (anyone else's answers 404, like a missing one)."""
    return await econsult_page(
        request, uuid_param(request, "id"), amend=request.query.get("amend") == "1"
    )


@routes.post("/hub/econsults/{id}/messages", name="hub_econsult_message")
async def post_message(request: web.Request) -> web.Response:
    """Write to the clinic; a question that waits on their answer pauses the clock."""
    user, _ = consultant_user(request)
    econsult_id = uuid_param(request, "id")
    form = await forms.read(request, MessageIn, names=MESSAGE_INPUTS)
    parsed = form.parsed
    if parsed is None:
        return await econsult_page(request, econsult_id, message=form, status=422)
    caller = user.caller
    try:
        async with unit_of_work(request) as conn:
            await econsults.post_message(
                conn,
                caller,
                trail_of(request, caller),
                econsult_id,
                body=parsed.body,
                asks_clinic=parsed.asks_clinic,
                settings=request.app[SETTINGS],
                now=now_of(request),
            )
    except (Conflict, ValidationFailed) as refusal:
        failed = (
            refusal
            if isinstance(refusal, ValidationFailed)
            else ValidationFailed(
                refusal.detail, errors=[FieldError("message", _sentence(refusal))]
            )
        )
        shown = forms.refused(form, failed, MESSAGE_INPUTS)
        return await econsult_page(request, econsult_id, message=shown, status=refusal.status)
    notice = (
        "Your question is sent to the clinic. The clock is paused until the clinic answers."
        if parsed.asks_clinic
        else "Your message is sent to the clinic."
    )
    page = url_for(request, "hub_econsult", id=econsult_id)
    raise await see_other(request, f"{page}#thread", notice)


def _sentence(refusal: Conflict) -> str:
    return refusal.detail[:1].upper() + refusal.detail[1:] + "."


@routes.post("/hub/econsults/{id}/note", name="hub_econsult_note")
async def save_econsult_note(request: web.Request) -> web.Response:
    """Save the e-consult's note as a draft, or save and sign it."""
    user, _ = consultant_user(request)
    econsult_id = uuid_param(request, "id")
    typed, note_id, action = await read_note_form(request)
    outcome = await save_note(
        request, user, Subject(econsult_id=econsult_id), typed, note_id, sign=action == "sign"
    )
    if outcome.note is None:
        return await econsult_page(request, econsult_id, note=outcome.retry, status=outcome.status)
    notice = notice_for(outcome.note, signed=outcome.note.signed_at is not None)
    page = url_for(request, "hub_econsult", id=econsult_id)
    raise await see_other(request, f"{page}#note", notice)
