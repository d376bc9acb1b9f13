"""Booking a chosen time: the slot, finding or adding the patient, and the Book button."""

from __future__ import annotations

import uuid

from aiohttp import web
from pydantic import Field

from scheduling import bookings
from scheduling.schemas import BookingIn
from scheduling.weeks import monday_of
from spokes import booking_views, patients
from spokes.api import PatientIn
from spokes.pages.common import STATES, TAKEN, clinic_of, page, utc_text
from telehub.errors import Conflict, SlotTaken, ValidationFailed
from telehub.fields import Id, Instant
from telehub.forms import check, errors_of, pick, read, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work
from telehub.validation import Input
from telehub.web import ROLES_SPOKE, local_time, see_other, signed_in, url_for

routes = web.RouteTableDef()

# Inputs in the order the forms show them (errors are summarised in this order).
PATIENT_INPUTS = ("mrn", "birth_date", "given_name", "family_name", "state", "phone", "email")
SLOT_INPUTS = ("service_id", "consultant_id", "start")
BOOK_INPUTS = (*SLOT_INPUTS, "patient_id", "reason")


class SlotChoice(Input):
    """A slot chosen in the grid, and the patient step's search."""

    service_id: Id
    consultant_id: Id
    start: Instant
    mrn: str | None = Field(None, max_length=64)
    patient_id: uuid.UUID | None = None


async def _book_page(
    request: web.Request,
    slot_values: dict[str, str],
    *,
    patient_id: uuid.UUID | None = None,
    mrn: str | None = None,
    patient_values: dict[str, str] | None = None,
    patient_errors: dict[str, str] | None = None,
    book_values: dict[str, str] | None = None,
    book_errors: dict[str, str] | None = None,
    problem: str | None = None,
    status: int = 200,
) -> web.Response:
    """The booking step: the chosen slot, finding or adding the patient, and the Book button."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    choice, choice_errors = check(SlotChoice, pick(slot_values, SLOT_INPUTS))
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, caller)
        chosen = (
            await booking_views.chosen(conn, choice.service_id, choice.consultant_id, choice.start)
            if choice
            else None
        )
        patient = matches = None
        if patient_id is not None:
            patient = await patients.get(conn, caller, trail, patient_id)
        elif mrn:
            matches = await patients.find(conn, caller, trail, mrn=mrn, limit=5)
            patient = matches[0] if matches else None
        closed = None
        if chosen is not None:
            state = patient.state if patient else spoke.state
            closed = await booking_views.closed(conn, chosen, state, now_of(request))
    if chosen is None and not choice_errors:
        choice_errors = {"service_id": "no such service or consultant"}
    find_again = url_for(
        request,
        "spoke_find",
        {
            "service_id": chosen.service.id,
            "consultant_id": chosen.consultant.id,
            "week": monday_of(chosen.start.astimezone(spoke.zone).date()),
        }
        if chosen
        else None,
    )
    return page(
        request,
        "spokes/book.html",
        {
            "spoke": spoke,
            "chosen": chosen,
            "choice_errors": choice_errors,
            "patient": patient,
            "mrn": mrn or "",
            "searched": mrn is not None and patient_id is None,
            "patient_values": patient_values
            or ({"mrn": mrn, "state": spoke.state} if mrn else {"state": spoke.state}),
            "patient_errors": patient_errors or {},
            "book_values": book_values or {},
            "book_errors": book_errors or {},
            "states": [(s, s) for s in STATES],
            "problem": problem,
            "closed": closed,
            "book_url": lambda s: url_for(
                request,
                "spoke_book",
                {
                    "service_id": s.service_id,
                    "consultant_id": s.consultant_id,
                    "start": utc_text(s.start),
                    "patient_id": patient.id if patient else None,
                    "reason": (book_values or {}).get("reason"),
                },
            ),
            "find_again": find_again,
        },
        status=status,
    )


@routes.get("/spoke/book", name="spoke_book")
async def book_page(request: web.Request) -> web.Response:
    """The chosen slot and the patient step (find by MRN, or add); nothing is booked on GET."""
    signed_in(request, *ROLES_SPOKE)
    query = dict(request.query)
    patient_id = None
    if query.get("patient_id"):
        try:
            patient_id = uuid.UUID(query["patient_id"])
        except ValueError:
            patient_id = None
    mrn = query["mrn"].strip()[:64] if "mrn" in query else None
    # A reason typed for a time that was not open comes along to the time chosen instead.
    kept = {"reason": query["reason"][:2000]} if query.get("reason") else None
    return await _book_page(request, query, patient_id=patient_id, mrn=mrn, book_values=kept)


@routes.post("/spoke/book", name="spoke_book_post")
async def book(request: web.Request) -> web.Response:
    """Book the slot for the chosen patient; a taken or closed time says so and books nothing."""
    user = signed_in(request, *ROLES_SPOKE)
    caller = user.caller
    filled = await read(request, BookingIn, names=BOOK_INPUTS)
    typed, parsed = filled.values, filled.parsed
    patient_id = _uuid(typed.get("patient_id"))
    if parsed is None:
        return await _book_page(
            request,
            typed,
            patient_id=patient_id,
            book_values=typed,
            book_errors=filled.errors,
            status=422,
        )
    settings = request.app[SETTINGS]
    try:
        async with unit_of_work(request) as conn:
            booked = await bookings.book(
                conn,
                bookings.spoke_of(caller),
                trail_of(request, caller),
                bookings.NewBooking(
                    parsed.service_id,
                    parsed.consultant_id,
                    parsed.patient_id,
                    parsed.start,
                    parsed.reason,
                ),
                now=now_of(request),
                video_url_template=settings.video_url_template,
            )
            spoke = await clinic_of(conn, caller)
    except SlotTaken:
        return await _book_page(
            request, typed, patient_id=patient_id, book_values=typed, problem=TAKEN, status=409
        )
    except bookings.TimeNotOpen as closed:
        problem = f"This time is not open any more. {closed.words} Nothing was booked."
        return await _book_page(
            request, typed, patient_id=patient_id, book_values=typed, problem=problem, status=422
        )
    except ValidationFailed as failed:
        return await _book_page(
            request,
            typed,
            patient_id=patient_id,
            book_values=typed,
            book_errors=errors_of(failed, BOOK_INPUTS),
            status=422,
        )
    when = local_time(booked.start, spoke.timezone)
    raise await see_other(
        request, url_for(request, "spoke_booking", id=booked.id), f"Booked for {when}."
    )


def _uuid(text: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(text or "")
    except ValueError:
        return None


@routes.get("/spoke/patients/new", name="spoke_patient_new")
async def patient_page(request: web.Request) -> web.Response:
    """Add a patient to the clinic (then ask the hub about them)."""
    signed_in(request, *ROLES_SPOKE)
    return await _patient_page(request, {}, {})


async def _patient_page(
    request: web.Request, values: dict[str, str], errors: dict[str, str], status: int = 200
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, user.caller)
    return page(
        request,
        "spokes/patient_new.html",
        {
            "spoke": spoke,
            "values": values or {"state": spoke.state},
            "errors": errors,
            "states": [(s, s) for s in STATES],
        },
        status=status,
    )


@routes.post("/spoke/patients", name="spoke_patient_post")
async def add_patient(request: web.Request) -> web.Response:
    """Register a patient, then go back to booking the slot (or to a new e-consult)."""
    user = signed_in(request, *ROLES_SPOKE)
    typed = await typed_form(request)
    booking = all(typed.get(k) for k in SLOT_INPUTS)
    parsed, errors = check(PatientIn, pick(typed, PATIENT_INPUTS), PATIENT_INPUTS)
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                added = await patients.register(
                    conn, user.caller, trail_of(request, user.caller), **parsed.model_dump()
                )
        except Conflict:
            errors, status = (
                {"mrn": "this clinic has a patient with this MRN already: find them by MRN"},
                409,
            )
        else:
            notice = f"Added {added.given_name} {added.family_name} ({added.mrn})."
            if booking:
                target = url_for(
                    request, "spoke_book", {**pick(typed, SLOT_INPUTS), "patient_id": added.id}
                )
            else:
                target = url_for(request, "spoke_econsult_new", {"patient_id": added.id})
            raise await see_other(request, target, notice)
    if booking:
        return await _book_page(
            request,
            typed,
            mrn=typed.get("mrn", ""),
            patient_values=typed,
            patient_errors=errors,
            status=status,
        )
    return await _patient_page(request, typed, errors, status)
