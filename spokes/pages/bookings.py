"""The clinic's bookings at any date, filtered and a page at a time, each linked to its patient."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Self

from aiohttp import web
from pydantic import Field, model_validator

from scheduling.schemas import BookingStatus
from spokes import care
from spokes.pages.common import FIELD_LABELS
from telehub import labels
from telehub.errors import ValidationFailed
from telehub.fields import Id, OneLine
from telehub.forms import check, errors_of, pick
from telehub.request import trail_of, unit_of_work
from telehub.validation import FieldNamedError, Input
from telehub.web import ROLES_SPOKE, render, signed_in, url_for

routes = web.RouteTableDef()

STATUSES = ("booked", "completed", "no_show", "cancelled")
_FIRST_DAY, _LAST_DAY = date(2000, 1, 1), date(2199, 12, 31)


class BookingsQuery(Input):
    """The filters of the clinic's bookings list: dates are days in the clinic's time zone."""

    patient_id: uuid.UUID | None = None
    consultant_id: Id | None = None
    service_id: Id | None = None
    status: BookingStatus | None = None
    from_date: date | None = Field(None, ge=_FIRST_DAY, le=_LAST_DAY)
    to_date: date | None = Field(None, ge=_FIRST_DAY, le=_LAST_DAY)
    after: OneLine | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _range(self) -> Self:
        if self.from_date and self.to_date and self.to_date < self.from_date:
            raise FieldNamedError("to_date", "must not be before the From date")
        return self


INPUTS = tuple(BookingsQuery.model_fields)  # in the order the filters show them
FILTERS = INPUTS[:-1]  # what a page link keeps: every filter, not the page
LABELS = {
    **FIELD_LABELS,
    "status": "Status",
    "from_date": "From",
    "to_date": "To",
    "after": "Page",
}
PICK_ONE = "choose one from the list"


@routes.get("/spoke/bookings", name="spoke_bookings")
async def bookings_page(request: web.Request) -> web.Response:
    """Every booking of the clinic, cancelled ones included, by start time, 25 at a time."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail = user.caller, trail_of(request, user.caller)
    typed = pick(request.query, INPUTS)
    query, errors = check(BookingsQuery, typed, INPUTS)
    shown: care.BookingsPage | None = None
    async with unit_of_work(request) as conn:
        choices = await care.booking_choices(conn, caller, trail)
        if query is not None:
            errors = _unknown(query, choices)
        if query is not None and not errors:
            wanted = care.BookingsWanted(**query.model_dump())
            try:
                shown = await care.clinic_bookings(conn, caller, trail, wanted)
            except ValidationFailed as failed:
                errors = errors_of(failed, INPUTS)
    filters = {k: v for k, v in typed.items() if k in FILTERS}
    spoke = choices.spoke
    return render(
        request,
        "spokes/bookings.html",
        {
            "spoke": spoke,
            "values": typed,
            "errors": errors,
            "field_labels": LABELS,
            "shown": shown,
            "filtered": bool(filters),
            "paged": "after" in typed,
            "patient_options": [
                (p.id, f"{p.family_name}, {p.given_name} (MRN {p.mrn})") for p in choices.patients
            ],
            "consultant_options": sorted(choices.consultants.items(), key=lambda c: c[1]),
            "service_options": [(s.id, s.name) for s in choices.services],
            "status_options": [(s, labels.label(s, "status").capitalize()) for s in STATUSES],
            "first_page": url_for(request, "spoke_bookings", filters),
            "next_page": (
                url_for(request, "spoke_bookings", {**filters, "after": shown.next_after})
                if shown and shown.next_after
                else None
            ),
            "clear": url_for(request, "spoke_bookings"),
        },
        status=422 if errors else 200,
    )


def _unknown(query: BookingsQuery, choices: care.BookingChoices) -> dict[str, str]:
    """Filters naming no patient, consultant or service of the lists offered."""
    errors = {}
    if query.patient_id and query.patient_id not in {p.id for p in choices.patients}:
        errors["patient_id"] = PICK_ONE
    if query.consultant_id and query.consultant_id not in choices.consultants:
        errors["consultant_id"] = PICK_ONE
    if query.service_id and query.service_id not in {s.id for s in choices.services}:
        errors["service_id"] = PICK_ONE
    return errors
