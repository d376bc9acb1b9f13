"""A patient's page: who they are, their sessions to come and past, e-consults and notes."""

from __future__ import annotations

from aiohttp import web

from spokes import care
from spokes.pages.common import page
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, signed_in, url_for

routes = web.RouteTableDef()

# Another part of the clinic's pages books a course of sessions; the patient page offers it
# only where the app has it.
SERIES_PAGE = "spoke_series_new"


@routes.get("/spoke/patients/{id}", name="spoke_patient")
async def patient_page(request: web.Request) -> web.Response:
    """One of the clinic's patients with their care, and what to do next for them."""
    user = signed_in(request, *ROLES_SPOKE)
    patient_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        shown = await care.patient_page(
            conn, user.caller, trail_of(request, user.caller), patient_id, now_of(request)
        )
    record = shown.care
    patient = record.patient
    return page(
        request,
        "spokes/patient.html",
        {
            "spoke": record.spoke,
            "r": record,
            "consent": shown.consent,
            "patient": patient,
            "outcome": lambda b: care.outcome(b, record.now),
            "courses": {s.id: s for s in record.series},
            "book_url": url_for(
                request,
                "spoke_find",
                {"patient_id": patient.id, "patient_state": patient.state},
            ),
            "series_url": (
                url_for(request, SERIES_PAGE, {"patient_id": patient.id})
                if SERIES_PAGE in request.app.router
                else None
            ),
            "econsult_url": url_for(request, "spoke_econsult_new", {"patient_id": patient.id}),
            "bookings_url": url_for(request, "spoke_bookings", {"patient_id": patient.id}),
        },
    )
