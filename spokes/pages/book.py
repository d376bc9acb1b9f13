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
from telehub.errors import PossibleDuplicate, SlotTaken, ValidationFailed
from telehub.fields import Id, Instant
from telehub.forms import check, errors_of, pick, read, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work
from telehub.validation import Input
from telehub.web import ROLES_SPOKE, local_time, see_other, signed_in, url_for

routes = web.RouteTableDef()

# Inputs in the order the forms show them (errors are summarised in this order).
PATIENT_INPUTS = ("mrn", "birth_date", "given_name", "family_name", "state", "phone", "email")
# The patient step shows this many matches; typing more narrows them.
MATCHES_SHOWN = 10
SLOT_INPUTS = ("service_id", "consultant_id", "start")
BOOK_INPUTS = (*SLOT_INPUTS, "patient_id", "reason")


class SlotChoice(Input):
    """A slot chosen in the grid, and the patient step's search."""

    service_id: Id
    consultant_id: Id
    start: Instant
    q: str | None = Field(None, max_length=100)
    mrn: str | None = Field(None, max_length=64)
    patient_id: uuid.UUID | None = None


def _searched_as(text: str) -> str:
    """How the page words a search that found no one: as a birth date, an MRN or a name."""
    if patients.birth_date_in(text):
        return "birth_date"
    return "mrn" if any(c.isdigit() for c in text) else "name"


def _typed_in(text: str, kind: str) -> dict[str, str]:
    """What a search that found no one fills in the new patient's form."""
    return {"birth_date": text} if kind == "birth_date" else {"mrn": text} if kind == "mrn" else {}


async def _book_page(
    request: web.Request,
    slot_values: dict[str, str],
    *,
    patient_id: uuid.UUID | None = None,
    q: str | None = None,
    patient_values: dict[str, str] | None = None,
    patient_errors: dict[str, str] | None = None,
    duplicates: PossibleDuplicate | None = None,
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
        elif q:
            matches = await patients.search(conn, caller, trail, q, limit=MATCHES_SHOWN)
            # An MRN typed in full is the patient: chosen at once, as before names were searched.
            patient = matches.by_mrn
        if duplicates is not None:
            await patients.candidates_shown(conn, caller, trail, duplicates)
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
    kind = _searched_as(q or "")
    return page(
        request,
        "spokes/book.html",
        {
            "spoke": spoke,
            "chosen": chosen,
            "choice_errors": choice_errors,
            "patient": patient,
            **_matches_context(request, slot_values, q, matches),
            "patient_values": patient_values or {**_typed_in(q or "", kind), "state": spoke.state},
            "patient_errors": patient_errors or {},
            "duplicates": duplicates.extra if duplicates else None,
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


def _matches_context(
    request: web.Request,
    slot_values: dict[str, str],
    q: str | None,
    matches: patients.Matches | None,
) -> dict[str, object]:
    """What the patient step's list of matches shows, on the page and as a fragment."""
    slot = pick(slot_values, SLOT_INPUTS)
    return {
        "q": q or "",
        "searched": bool(q),
        "searched_as": _searched_as(q or ""),
        "matches": matches.patients if matches else [],
        "more": bool(matches and matches.more),
        "use_url": lambda patient_id: (
            url_for(request, "spoke_book", {**slot, "patient_id": patient_id})
            if slot
            else url_for(request, "spoke_patient", id=patient_id)
        ),
    }


@routes.get("/spoke/book", name="spoke_book")
async def book_page(request: web.Request) -> web.Response:
    """The chosen slot and the patient step (find by name, MRN or birth date, or add); nothing
    is booked on GET. `mrn` is the search's older name, kept for links made before."""
    signed_in(request, *ROLES_SPOKE)
    query = dict(request.query)
    patient_id = None
    if query.get("patient_id"):
        try:
            patient_id = uuid.UUID(query["patient_id"])
        except ValueError:
            patient_id = None
    q = (query.get("q") or query.get("mrn") or "").strip()[:100] or None
    # A reason typed for a time that was not open comes along to the time chosen instead.
    kept = {"reason": query["reason"][:2000]} if query.get("reason") else None
    return await _book_page(request, query, patient_id=patient_id, q=q, book_values=kept)


@routes.get("/spoke/book/patients", name="spoke_patient_search")
async def patient_matches(request: web.Request) -> web.Response:
    """The patient step's matches alone (an HTML fragment), asked for as the scheduler types."""
    user = signed_in(request, *ROLES_SPOKE)
    query = dict(request.query)
    q = (query.get("q") or "").strip()[:100] or None
    matches = None
    if q:
        async with unit_of_work(request) as conn:
            matches = await patients.search(
                conn, user.caller, trail_of(request, user.caller), q, limit=MATCHES_SHOWN
            )
    return page(
        request, "spokes/patient_matches.html", _matches_context(request, query, q, matches)
    )


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
    request: web.Request,
    values: dict[str, str],
    errors: dict[str, str],
    status: int = 200,
    duplicates: PossibleDuplicate | None = None,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        spoke = await clinic_of(conn, user.caller)
        if duplicates is not None:
            await patients.candidates_shown(
                conn, user.caller, trail_of(request, user.caller), duplicates
            )
    return page(
        request,
        "spokes/patient_new.html",
        {
            "spoke": spoke,
            "values": values or {"state": spoke.state},
            "errors": errors,
            "states": [(s, s) for s in STATES],
            "duplicates": duplicates.extra if duplicates else None,
            # The patient's own page: from there, book or ask the hub about them.
            "use_url": lambda patient_id: url_for(request, "spoke_patient", id=patient_id),
        },
        status=status,
    )


@routes.post("/spoke/patients", name="spoke_patient_post")
async def add_patient(request: web.Request) -> web.Response:
    """Register a patient, then go back to booking the slot (or to a new e-consult). One the
    clinic may have already is not added: the page shows who, and asks."""
    user = signed_in(request, *ROLES_SPOKE)
    typed = await typed_form(request)
    booking = all(typed.get(k) for k in SLOT_INPUTS)
    parsed, errors = check(PatientIn, pick(typed, (*PATIENT_INPUTS, "confirm_new")), PATIENT_INPUTS)
    status, duplicates = 422, None
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                added = await patients.register(
                    conn, user.caller, trail_of(request, user.caller), **parsed.model_dump()
                )
        except PossibleDuplicate as refused:
            status, duplicates = 409, refused
            errors = (
                {}
                if refused.extra.get("confirmable")
                else {"mrn": "this clinic has a patient with this MRN already: the same patient"}
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
            patient_values=typed,
            patient_errors=errors,
            duplicates=duplicates,
            status=status,
        )
    return await _patient_page(request, typed, errors, status, duplicates)
