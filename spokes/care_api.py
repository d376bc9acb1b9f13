"""Care API: a patient's record, for the patient's clinic."""

from __future__ import annotations

from aiohttp import web
from pydantic import Field

from consults.api import econsult_out
from consults.notes_api import note_out
from consults.schemas import EconsultOut, NoteOut
from scheduling.api import booking_out
from scheduling.schemas import BookingOut
from scheduling.series_api import series_out
from scheduling.series_schemas import SeriesOut
from spokes import care
from spokes.api import PatientOut, patient_out
from telehub.api import ApiRoutes
from telehub.auth import Caller
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.validation import NoInput, Output

api = ApiRoutes(tag="spokes")


class CareBookingOut(BookingOut):
    """A booking in a patient's record: whether it is to come, and how it went."""

    upcoming: bool = Field(description="It starts at or after the time of the request")
    outcome: care.Outcome | None = Field(
        description="How a session that began went; not_recorded until the hub says; "
        "null for one to come or cancelled"
    )


class CareOut(Output):
    """A patient's record: each list newest first."""

    patient: PatientOut
    bookings: list[CareBookingOut] = Field(
        description="Every booking, upcoming and past, cancelled included: latest start first"
    )
    series: list[SeriesOut] = Field(
        description="Courses of sessions, newest first; their sessions are in bookings too"
    )
    econsults: list[EconsultOut] = Field(description="Newest submitted first")
    notes: list[NoteOut] = Field(
        description="Every signed version of the patient's consult notes, newest signed first"
    )


def care_out(record: care.Care) -> CareOut:
    """The API view of a patient's record."""
    return CareOut(
        patient=patient_out(record.patient),
        bookings=[
            CareBookingOut(
                **booking_out(b).model_dump(),
                upcoming=b.start >= record.now,
                outcome=care.outcome(b, record.now),
            )
            for b in record.bookings
        ],
        series=[series_out(s) for s in record.series],
        econsults=[econsult_out(e) for e in record.econsults],
        notes=[note_out(n) for n in record.notes],
    )


@api.operation(
    "GET",
    "/api/v1/patients/{id}/care",
    name="get_patient_care",
    summary="A patient's record: bookings, series, e-consults and consult notes",
    scope="patients:read",
    input=NoInput,
    output=CareOut,
    errors=(404,),
    path_params={"id": "uuid"},
)
async def get_patient_care(request: web.Request, caller: Caller, _: NoInput) -> CareOut:
    """A patient of the caller's clinic with their record (another clinic's answers 404).
    Each consult note the patient's consent covers is disclosed (and accounted for); a held
    one is listed without its body, with what consent it waits for."""
    patient_id = uuid_param(request, "id")
    async with unit_of_work(request) as conn:
        record = await care.patient_care(
            conn, caller, trail_of(request, caller), patient_id, now_of(request), channel="api"
        )
    return care_out(record)
