"""Consult notes: the clinic's inbox, reading, acknowledging and printing a note."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from consults import notes
from consults.note_store import Subject
from hub import store as hub_store
from spokes import patients
from spokes import store as spokes_store
from spokes.pages.common import (
    clinic_of,
    page,
)
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()


@routes.get("/spoke/inbox", name="spoke_inbox")
async def inbox_page(request: web.Request) -> web.Response:
    """Signed consult notes: those to acknowledge first, then those acknowledged."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
        waiting = await notes.inbox(conn, caller, trail, acknowledged=False, limit=200)
        # The store lists oldest first: keep the newest acknowledged ones, newest first.
        read = (await notes.inbox(conn, caller, trail, acknowledged=True, limit=500))[::-1][:50]
        people = await spokes_store.patients_by_id(
            conn, spoke.id, list({n.patient_id for n in waiting + read})
        )
        consultants = {
            c.id: c for c in await hub_store.list_consultants(conn, include_inactive=True)
        }
    return page(
        request,
        "spokes/inbox.html",
        {
            "spoke": spoke,
            "waiting": waiting,
            "read": read,
            "patients": people,
            "consultants": consultants,
        },
    )


async def _note(request: web.Request) -> dict[str, Any]:
    """What the note page and its printout show."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        note = await notes.get(conn, caller, trail, uuid_param(request, "id"))
        spoke = await clinic_of(conn, caller)
        patient = await patients.get(conn, caller, trail, note.patient_id)
        consultant = await hub_store.get_consultant(conn, note.consultant_id)
        subject = Subject(econsult_id=note.econsult_id, booking_id=note.booking_id)
        versions = await notes.versions(conn, caller, trail, subject)
    return {
        "spoke": spoke,
        "note": note,
        "s": note.sections,
        "recs": note.sections.get("recommendations") or {},
        "patient": patient,
        "consultant": consultant,
        "versions": versions,
        "newest": versions[-1] if versions else note,
    }


@routes.get("/spoke/notes/{id}", name="spoke_note")
async def note_page(request: web.Request) -> web.Response:
    """A signed consult note, readable section by section, with Acknowledge and Print."""
    return page(request, "spokes/note.html", await _note(request))


@routes.get("/spoke/notes/{id}/print", name="spoke_note_print")
async def note_print(request: web.Request) -> web.Response:
    """The note on paper: clinic and patient header, every section, no navigation."""
    return page(request, "spokes/note_print.html", await _note(request))


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
