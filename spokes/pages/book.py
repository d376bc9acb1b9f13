"""Booking a chosen time: the slot, finding or adding the patient, and the Book button.

Choosing a time holds it for the clinic (scheduling/holds.py) while the form is filled: the
page says until when, the Book button books with the hold, and Cancel (or leaving the page,
see static/telehub.js) releases it. A hold that expired says so and offers the nearest times.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import asyncpg
from aiohttp import web
from pydantic import Field

from scheduling import bookings, holds
from scheduling.hold_store import Hold
from scheduling.schemas import BookingIn
from scheduling.slots import Closed
from scheduling.weeks import monday_of
from spokes import booking_views, patients
from spokes.api import PatientIn
from spokes.pages.common import STATES, TAKEN, clinic_of, page, utc_text
from telehub.errors import (
    Conflict,
    Forbidden,
    NotAnOpenSlot,
    NotFound,
    PossibleDuplicate,
    SlotTaken,
    ValidationFailed,
)
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
# The slot and the clinic's hold on it, carried from step to step of the page.
HELD_INPUTS = (*SLOT_INPUTS, "hold_id")
BOOK_INPUTS = (*HELD_INPUTS, "patient_id", "reason")


class BookForm(BookingIn):
    """The page's Book form: it always names the slot, and the hold when it has one."""

    service_id: Id
    consultant_id: Id
    start: Instant


@dataclass(frozen=True, slots=True)
class HoldShown:
    """The clinic's hold on the page's slot: active (until when) or ended."""

    hold: Hold
    active: bool
    until: str  # the expiry in the clinic's time zone, "10:42"


class SlotChoice(Input):
    """A slot chosen in the grid, and the patient step's search."""

    service_id: Id
    consultant_id: Id
    start: Instant
    q: str | None = Field(None, max_length=100)
    mrn: str | None = Field(None, max_length=64)
    patient_id: uuid.UUID | None = None
    hold_id: uuid.UUID | None = None


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
    choice, choice_errors = check(SlotChoice, pick(slot_values, HELD_INPUTS))
    now = now_of(request)
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
        held = None
        if chosen is not None and choice is not None and choice.hold_id is not None:
            held = await _hold_shown(conn, request, choice.hold_id, chosen, spoke.timezone)
        if chosen is not None and held is not None and held.active and patient is not None:
            # The time is ours while held; what the hold could not know is the patient's
            # state, which the consultant must be licensed in (bookings checks it again).
            closed = await _unlicensed(conn, chosen, patient.state, now)
        elif chosen is not None and not (held and held.active):  # a time held for us is ours
            state = patient.state if patient else spoke.state
            closed = await booking_views.closed(conn, chosen, state, now)
            if held is not None and closed is None:
                # The hold ended but the time is still open: say so, with the nearest times.
                nearest = await bookings.nearest_open(
                    conn,
                    chosen.service,
                    chosen.consultant.id,
                    chosen.start,
                    now=now,
                    patient_state=state,
                )
                people = await booking_views.consultants_for(conn, chosen.service.id)
                closed = booking_views.Closed("", nearest, {c.id: c.name for c in people})
    slot_hidden = dict(chosen.hidden) if chosen else {}
    if held is not None and held.active:
        slot_hidden["hold_id"] = str(held.hold.id)
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
            "held": held,
            "slot_hidden": slot_hidden,
            "hold_again_url": url_for(request, "spoke_book", chosen.hidden) if chosen else None,
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
    slot = pick(slot_values, HELD_INPUTS)
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


async def _unlicensed(
    conn: asyncpg.Connection, chosen: booking_views.Chosen, state: str, now: datetime
) -> booking_views.Closed | None:
    """The held time, for a patient in a state its consultant is not licensed in (video)."""
    service, consultant = chosen.service, chosen.consultant
    if not service.terms.requires_license or state in consultant.licensed_states:
        return None
    nearest = await bookings.nearest_open(
        conn, service, consultant.id, chosen.start, now=now, patient_state=state
    )
    people = await booking_views.consultants_for(conn, service.id)
    return booking_views.Closed(
        bookings.closed_words(Closed.NOT_LICENSED, service, consultant.name, state),
        nearest,
        {c.id: c.name for c in people},
    )


async def _hold_shown(
    conn: asyncpg.Connection,
    request: web.Request,
    hold_id: uuid.UUID,
    chosen: booking_views.Chosen,
    timezone: str,
) -> HoldShown | None:
    """The clinic's hold named by the page, if it is this slot's (another's reads as none)."""
    user = signed_in(request, *ROLES_SPOKE)
    try:
        found = await holds.get(
            conn,
            user.caller,
            trail_of(request, user.caller),
            hold_id,
            now=now_of(request),
        )
    except NotFound:
        return None
    if (found.service_id, found.consultant_id, found.start) != (
        chosen.service.id,
        chosen.consultant.id,
        chosen.start,
    ) or found.status == "booked":
        return None
    return HoldShown(
        found, found.status == "active", local_time(found.expires_at, timezone, "%H:%M")
    )


async def _hold_chosen(request: web.Request, query: dict[str, str]) -> dict[str, str]:
    """Choosing a time holds it for the clinic: the page's values naming the hold (the
    clinic's own hold on it, if the page is reloaded), which every step then carries. A time
    not open, taken or unknown is not held: the page then says why, as before."""
    user = signed_in(request, *ROLES_SPOKE)
    choice, _ = check(SlotChoice, pick(query, SLOT_INPUTS))
    if choice is None or query.get("hold_id"):
        return query
    new = holds.NewHold(choice.service_id, choice.consultant_id, choice.start)
    now = now_of(request)
    try:
        async with unit_of_work(request) as conn:
            spoke_id = bookings.spoke_of(user.caller)
            held = await holds.held_by_clinic(conn, spoke_id, new, now=now)
            if held is None:
                held = await holds.hold(
                    conn,
                    spoke_id,
                    trail_of(request, user.caller),
                    new,
                    now=now,
                    minutes=request.app[SETTINGS].hold_minutes,
                )
    except (SlotTaken, NotAnOpenSlot, ValidationFailed, Forbidden):
        return query
    return {**query, "hold_id": str(held.id)}


@routes.get("/spoke/book", name="spoke_book")
async def book_page(request: web.Request) -> web.Response:
    """The chosen slot, held for the clinic while the form is filled, and the patient step
    (find by name, MRN or birth date, or add); nothing is booked on GET. `mrn` is the
    search's older name, kept for links made before."""
    signed_in(request, *ROLES_SPOKE)
    query = await _hold_chosen(request, dict(request.query))
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
    filled = await read(request, BookForm, names=BOOK_INPUTS)
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
                hold_id=parsed.hold_id,
            )
            spoke = await clinic_of(conn, caller)
    except SlotTaken:
        return await _book_page(
            request, typed, patient_id=patient_id, book_values=typed, problem=TAKEN, status=409
        )
    except NotFound:  # the hold is not this clinic's (or not at all): book the time anew
        unheld = {k: v for k, v in typed.items() if k != "hold_id"}
        problem = "This page's hold on the time was not found. Nothing was booked."
        return await _book_page(
            request, unheld, patient_id=patient_id, book_values=typed, problem=problem, status=404
        )
    except Conflict as ended:  # the hold expired (or was released) before the Book button
        problem = f"Not booked: {ended.detail}."
        return await _book_page(
            request, typed, patient_id=patient_id, book_values=typed, problem=problem, status=409
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


@routes.post("/spoke/book/release", name="spoke_hold_release")
async def release_hold(request: web.Request) -> web.Response:
    """Cancel on the booking page (or leaving it): the clinic lets the time go."""
    user = signed_in(request, *ROLES_SPOKE)
    typed = await typed_form(request)
    hold_id = _uuid(typed.get("hold_id"))
    notice = None
    if hold_id is not None:
        try:
            async with unit_of_work(request) as conn:
                released = await holds.release(
                    conn, user.caller, trail_of(request, user.caller), hold_id, now=now_of(request)
                )
                spoke = await clinic_of(conn, user.caller)
        except (NotFound, Conflict):
            pass
        else:
            when = local_time(released.start, spoke.timezone)
            notice = f"Let {when} go: it is open to others again."
    choice, _ = check(SlotChoice, pick(typed, SLOT_INPUTS))
    target = url_for(
        request,
        "spoke_find",
        {"service_id": choice.service_id, "consultant_id": choice.consultant_id}
        if choice
        else None,
    )
    raise await see_other(request, target, notice)


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
                    request, "spoke_book", {**pick(typed, HELD_INPUTS), "patient_id": added.id}
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
