"""A booking's page: its details, rescheduling to another open time, cancelling."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web

from consults import notes
from consults.note_store import Subject
from scheduling import availability, bookings, moves
from scheduling.booking_store import Booking
from scheduling.schemas import CancelIn, RescheduleIn
from scheduling.slots import Period, Slot
from spokes import booking_views, patients
from spokes.pages.common import TAKEN, clinic_of, page, sentence, utc_text
from telehub.errors import Conflict, SlotTaken, ValidationFailed
from telehub.forms import check, errors_of, pick, typed_form
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, local_time, see_other, signed_in, url_for

routes = web.RouteTableDef()

RESCHEDULE_DAYS = 14


async def _booking_page(
    request: web.Request,
    booking_id: uuid.UUID,
    *,
    reschedule_values: dict[str, str] | None = None,
    reschedule_errors: dict[str, str] | None = None,
    cancel_values: dict[str, str] | None = None,
    cancel_errors: dict[str, str] | None = None,
    confirm_cancel: str | None = None,
    status: int = 200,
) -> web.Response:
    """A booking with its reschedule and cancel forms (or, with `confirm_cancel`, the question
    that cancelling asks once, carrying the reason given)."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail, now = user.caller, trail_of(request, user.caller), now_of(request)
    async with unit_of_work(request) as conn:
        shown = await booking_views.visit(conn, caller, trail, booking_id)
        booking, service, consultant = shown.booking, shown.service, shown.consultant
        spoke = await clinic_of(conn, caller)
        patient = await patients.get(conn, caller, trail, booking.patient_id)
        openings = await _openings(conn, booking, patient.state, now)
        versions = await notes.versions(conn, caller, trail, Subject(booking_id=booking.id))
    return page(
        request,
        "spokes/booking.html",
        {
            "spoke": spoke,
            "b": booking,
            "patient": patient,
            "service": service,
            "consultant": consultant,
            "course": shown.course,
            "openings": [
                (utc_text(s.start), local_time(s.start, spoke.timezone)) for s in openings
            ],
            "days": RESCHEDULE_DAYS,
            "versions": versions,
            "reschedule_values": reschedule_values or {},
            "reschedule_errors": reschedule_errors or {},
            "cancel_values": cancel_values or {},
            "cancel_errors": cancel_errors or {},
            "confirm_cancel": confirm_cancel,
            "find_url": url_for(
                request,
                "spoke_find",
                {"service_id": booking.service_id, "patient_state": patient.state},
            ),
            "book_again_url": url_for(
                request,
                "spoke_find",
                {
                    "service_id": booking.service_id,
                    "consultant_id": booking.consultant_id,
                    "patient_state": patient.state,
                },
            ),
        },
        status=status,
    )


async def _openings(
    conn: asyncpg.Connection, booking: Booking, patient_state: str, now: datetime
) -> list[Slot]:
    """Open times of the booking's consultant for the next two weeks, to move it to."""
    if booking.status != "booked":
        return []
    try:
        return await availability.search(
            conn,
            service_id=booking.service_id,
            window=Period(now, now + timedelta(days=RESCHEDULE_DAYS)),
            consultant_id=booking.consultant_id,
            patient_state=patient_state,
            now=now,
        )
    except ValidationFailed:  # the service was retired: nothing to move to
        return []


@routes.get("/spoke/bookings/{id}", name="spoke_booking")
async def booking_page(request: web.Request) -> web.Response:
    """A booking: when (clinic time), what, with whom, for whom; reschedule and cancel."""
    return await _booking_page(request, uuid_param(request, "id"))


@routes.post("/spoke/bookings/{id}/reschedule", name="spoke_reschedule")
async def reschedule(request: web.Request) -> web.Response:
    """Move the booking to another open time; it keeps its time unless the new one holds."""
    user = signed_in(request, *ROLES_SPOKE)
    booking_id = uuid_param(request, "id")
    typed = await typed_form(request)
    parsed, errors = check(RescheduleIn, pick(typed, ["start"]), ["start"])
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                moved = await moves.reschedule(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    booking_id,
                    start=parsed.start,
                    consultant_id=None,
                    now=now_of(request),
                )
                spoke = await clinic_of(conn, user.caller)
        except SlotTaken:
            errors, status = {"start": TAKEN}, 409
        except bookings.TimeNotOpen as closed:
            errors = {"start": f"This time is not open any more. {closed.words}"}
        except Conflict as refused:
            errors, status = {"start": sentence(refused.detail)}, 409
        except ValidationFailed as failed:
            errors = errors_of(failed, ["start"])
        else:
            when = local_time(moved.start, spoke.timezone)
            target = url_for(request, "spoke_booking", id=moved.id)
            raise await see_other(request, target, f"Rescheduled to {when}.")
    return await _booking_page(
        request, booking_id, reschedule_values=typed, reschedule_errors=errors, status=status
    )


@routes.post("/spoke/bookings/{id}/cancel", name="spoke_cancel")
async def cancel(request: web.Request) -> web.Response:
    """Cancel the booking with a reason, once asked and confirmed; its time opens again.

    A post without `confirmed=yes` (the first press, or a stray post) changes nothing: it asks.
    """
    user = signed_in(request, *ROLES_SPOKE)
    booking_id = uuid_param(request, "id")
    typed = await typed_form(request)
    parsed, errors = check(CancelIn, pick(typed, ["reason"]), ["reason"])
    status = 422
    if parsed is not None and typed.get("confirmed") != "yes":
        return await _booking_page(
            request, booking_id, cancel_values=typed, confirm_cancel=parsed.reason
        )
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                await bookings.cancel(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    booking_id,
                    reason=parsed.reason,
                    now=now_of(request),
                )
        except Conflict as refused:
            errors, status = {"reason": sentence(refused.detail)}, 409
        else:
            target = url_for(request, "spoke_booking", id=booking_id)
            raise await see_other(request, target, "Cancelled. The time is open to others again.")
    if errors.get("reason") == "is required":
        errors["reason"] = "Say why the session is cancelled"
    return await _booking_page(
        request, booking_id, cancel_values=typed, cancel_errors=errors, status=status
    )
