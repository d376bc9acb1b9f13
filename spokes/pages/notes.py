"""Consult notes: the clinic's inbox, reading, acknowledging and printing a note."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from consults import notes
from consults.disclosure import Channel
from spokes import consult_views
from spokes.pages.common import page
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()


@routes.get("/spoke/inbox", name="spoke_inbox")
async def inbox_page(request: web.Request) -> web.Response:
    """Signed consult notes: those to acknowledge first, then those acknowledged."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        shown = await consult_views.inbox(conn, caller, trail)
    return page(
        request,
        "spokes/inbox.html",
        {
            "spoke": shown.spoke,
            "waiting": shown.waiting,
            "read": shown.read,
            "patients": shown.patients,
            "consultants": shown.consultants,
        },
    )


async def _note(request: web.Request, channel: Channel) -> dict[str, Any]:
    """What the note page and its printout show: the body and its Part 2 block when the
    patient's consent covers it (the showing is accounted for), else that it is held."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        shown = await consult_views.note_view(
            conn, caller, trail, uuid_param(request, "id"), channel=channel, now=now_of(request)
        )
    note = shown.note
    return {
        "held": getattr(note, "waiting_for", None),
        "part2": getattr(note, "part2", None),
        "spoke": shown.spoke,
        "note": note,
        "s": note.sections,
        "recs": note.sections.get("recommendations") or {},
        "patient": shown.patient,
        "consultant": shown.consultant,
        "econsult": shown.econsult,
        "signer": shown.signer,
        "versions": shown.versions,
        "newest": shown.versions[-1] if shown.versions else note,
    }


@routes.get("/spoke/notes/{id}", name="spoke_note")
async def note_page(request: web.Request) -> web.Response:
    """A signed consult note, readable section by section, with Acknowledge and Print."""
    return page(request, "spokes/note.html", await _note(request, "page"))


@routes.get("/spoke/notes/{id}/print", name="spoke_note_print")
async def note_print(request: web.Request) -> web.Response:
    """The note on paper: clinic and patient header, every section, no navigation."""
    return page(request, "spokes/note_print.html", await _note(request, "print"))


@routes.post("/spoke/notes/{id}/acknowledge", name="spoke_note_ack")
async def acknowledge(request: web.Request) -> web.Response:
    """The clinic has read the note: the loop closes."""
    user = signed_in(request, *ROLES_SPOKE)
    note_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        await notes.acknowledge(
            conn, user.caller, trail_of(request, user.caller), note_id, now=now_of(request)
        )
    raise await see_other(
        request, url_for(request, "spoke_note", id=note_id), "Acknowledged: the loop is closed."
    )
