"""The clinic's 1:1 waitlist: ask to be told when an earlier time opens, see what was told, leave.

Joined from the find page ("No time soon enough?"), which passes its filters on. Nothing is
ever booked from the list: a request told of a time links to booking it.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from scheduling.waitlist import Wanted
from scheduling.waitlist_schemas import WaitlistIn
from spokes import waitlist_views
from spokes.pages.common import STATES, page, utc_text
from telehub import labels
from telehub.errors import NotFound, ValidationFailed
from telehub.forms import Filled, errors_of, pick, read, typed_form
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()

INPUTS = tuple(WaitlistIn.model_fields)  # in the order the form shows them
LABELS = {
    "service_id": "Service",
    "consultant_id": "Consultant",
    "role": "Or any consultant of this role",
    "patient_state": "Patient's state",
    "latest_date": "Latest date that will do",
    "patient_id": "Patient",
}


@routes.get("/spoke/waitlist", name="spoke_waitlist")
async def waitlist_page(request: web.Request) -> web.Response:
    """The clinic's requests, and the form to add one (filled from the find page's filters)."""
    return await _page(request, pick(request.query, INPUTS), {})


@routes.post("/spoke/waitlist", name="spoke_waitlist_join")
async def join(request: web.Request) -> web.Response:
    """Put a request on the list; a mistake shows next to its field and nothing is added."""
    user = signed_in(request, *ROLES_SPOKE)
    filled: Filled[WaitlistIn] = await read(request, WaitlistIn, names=INPUTS)
    if filled.parsed is not None and not filled.errors:
        body = filled.parsed
        try:
            async with unit_of_work(request) as conn:
                await waitlist_views.join(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    Wanted(
                        service_id=body.service_id,
                        consultant_id=body.consultant_id,
                        role=body.role,
                        patient_state=body.patient_state,
                        latest_date=body.latest_date,
                        patient_id=body.patient_id,
                    ),
                    now=now_of(request),
                )
        except ValidationFailed as failed:
            filled.errors.update(errors_of(failed, INPUTS))
        else:
            notice = (
                "On the waitlist. When an earlier time opens you will be told here and by webhook."
            )
            raise await see_other(request, url_for(request, "spoke_waitlist"), notice)
    return await _page(request, filled.values, filled.errors, status=422)


@routes.post("/spoke/waitlist/{id}/leave", name="spoke_waitlist_leave")
async def leave(request: web.Request) -> web.Response:
    """Take a request off the list, once confirmed (a post without it only asks)."""
    user = signed_in(request, *ROLES_SPOKE)
    request_id = uuid_param(request, "id")
    if (await typed_form(request)).get("confirmed") != "yes":
        return await _page(request, {}, {}, confirm=request_id)
    async with unit_of_work(request) as conn:
        await waitlist_views.leave(
            conn, user.caller, trail_of(request, user.caller), request_id, now=now_of(request)
        )
    raise await see_other(request, url_for(request, "spoke_waitlist"), "Off the waitlist.")


async def _page(
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    *,
    confirm: uuid.UUID | None = None,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    service_id = values.get("service_id", "")
    async with unit_of_work(request) as conn:
        shown = await waitlist_views.clinic_waitlist(
            conn,
            user.caller,
            trail_of(request, user.caller),
            service_id=int(service_id) if service_id.isdigit() else None,
        )
    if confirm is not None and confirm not in {r.id for r in shown.requests}:
        raise NotFound("no such waitlist request")
    context: dict[str, Any] = {
        "spoke": shown.spoke,
        "w": shown,
        "values": {"patient_state": shown.spoke.state, **values},
        "errors": errors,
        "labels_": LABELS,
        "confirm": confirm,
        "now": now_of(request),  # a time told of that has passed is no longer offered
        "service_options": [(s.id, s.name) for s in shown.services],
        "consultant_options": [(c.id, f"{c.name}, {c.credentials}") for c in shown.consultants],
        "role_options": labels.options("consultant_role"),
        "state_options": [(s, s) for s in STATES],
        "book_url": lambda slot: url_for(
            request,
            "spoke_book",
            {
                "service_id": slot.service_id,
                "consultant_id": slot.consultant_id,
                "start": utc_text(slot.start),
            },
        ),
    }
    return page(request, "spokes/waitlist.html", context, status=status)
