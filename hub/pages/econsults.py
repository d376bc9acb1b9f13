"""The consultant's e-consult worklist, and one case: reading it, writing to the clinic, its note.

The case page itself is rendered by `econsult_view`, which signing a note shows again too.
"""

from __future__ import annotations

from aiohttp import web

from consults import econsults
from consults.note_store import Subject
from consults.schemas import MessageIn
from hub.pages.common import STATUS_LABELS, consultant_of, consultant_user, spokes_by_id, zone_label
from hub.pages.econsult_view import econsult_page
from hub.pages.note_editor import Typed, notice_for, read_note_form, save_note
from spokes import store as spokes_store
from telehub import forms
from telehub.errors import Conflict, ValidationFailed
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import render, see_other

routes = web.RouteTableDef()


@routes.get("/hub/worklist", name="hub_worklist")
async def worklist(request: web.Request) -> web.Response:
    """E-consults assigned to me, soonest due first, overdue ones marked."""
    user, consultant_id = consultant_user(request)
    caller, now = user.caller, now_of(request)
    trail = trail_of(request, caller)
    async with unit_of_work(request) as conn:
        consultant = await consultant_of(conn, consultant_id)
        overdue = await econsults.find(conn, caller, trail, status=None, overdue_at=now, limit=500)
        waiting = [
            e
            for status in ("assigned", "awaiting_clinic")
            for e in await econsults.find(
                conn, caller, trail, status=status, overdue_at=None, limit=500
            )
        ]
        answered = await econsults.find(
            conn, caller, trail, status="answered", overdue_at=None, limit=100
        )
        found = waiting + answered
        patients = await spokes_store.patients_by_id(conn, None, [e.patient_id for e in found])
        spokes = await spokes_by_id(conn)
    waiting.sort(key=lambda e: (e.due_at, e.id))
    return render(
        request,
        "hub/worklist.html",
        {
            "consultant": consultant,
            "zone_label": zone_label(consultant.timezone, now),
            "open": waiting,
            "answered": answered,
            "overdue": {e.id for e in overdue},
            "paused": sum(1 for e in waiting if e.status == "awaiting_clinic"),
            "patients": patients,
            "spokes": spokes,
            "labels": STATUS_LABELS,
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
    form = await forms.read(request, MessageIn)
    parsed, typed, errors = form.parsed, form.values, form.errors
    if parsed is None:
        return await econsult_page(request, econsult_id, message=Typed(typed, errors), status=422)
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
    except (Conflict, ValidationFailed) as refused:
        errors = forms.errors_of(refused) if isinstance(refused, ValidationFailed) else {}
        errors = errors or {"message": refused.detail[:1].upper() + refused.detail[1:] + "."}
        return await econsult_page(
            request, econsult_id, message=Typed(typed, errors), status=refused.status
        )
    notice = (
        "Your question is sent to the clinic. The clock is paused until the clinic answers."
        if parsed.asks_clinic
        else "Your message is sent to the clinic."
    )
    raise await see_other(request, f"/hub/econsults/{econsult_id}#thread", notice)


@routes.post("/hub/econsults/{id}/note", name="hub_econsult_note")
async def save_econsult_note(request: web.Request) -> web.Response:
    """Save the e-consult's note as a draft, or save and sign it."""
    user, _ = consultant_user(request)
    econsult_id = uuid_param(request, "id")
    typed, note_id, action = read_note_form(await request.post())
    outcome = await save_note(
        request, user, Subject(econsult_id=econsult_id), typed, note_id, sign=action == "sign"
    )
    if outcome.note is None:
        return await econsult_page(request, econsult_id, note=outcome.retry, status=outcome.status)
    notice = notice_for(outcome.note, signed=outcome.note.signed_at is not None)
    raise await see_other(request, f"/hub/econsults/{econsult_id}#note", notice)
