"""The clinic's e-consults: asking the hub with the OUD template, the thread, the answer."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web

from consults import econsults
from consults.schemas import EconsultIn, MessageIn, VisitIn
from spokes import care, consult_views
from spokes.pages.common import (
    ECONSULT_INPUTS,
    FIELD_LABELS,
    MEDICATION_LABELS,
    NEED_LABELS,
    NEEDS,
    RESULT_LABELS,
    SUBSTANCE_LABELS,
    clinic_of,
    econsult_body,
    page,
    utc_text,
)
from spokes.store import Patient
from telehub.errors import Conflict, NotAnOpenSlot, SlotTaken, ValidationFailed
from telehub.forms import check, checked, errors_of, field_label, pick, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, local_time, see_other, signed_in, url_for

routes = web.RouteTableDef()

LABELS = {
    "medications": MEDICATION_LABELS,
    "substances": SUBSTANCE_LABELS,
    "results": RESULT_LABELS,
    "needs": NEED_LABELS,
}


@routes.get("/spoke/econsults", name="spoke_econsults")
async def econsults_page(request: web.Request) -> web.Response:
    """The clinic's e-consults: open ones soonest due first, then recently closed."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail, now = user.caller, trail_of(request, user.caller), now_of(request)
    async with unit_of_work(request) as conn:
        shown = await consult_views.econsult_list(
            conn, caller, trail, now, request.query.get("show")
        )
    return page(
        request,
        "spokes/econsults.html",
        {
            "spoke": shown.spoke,
            "open_ones": shown.open_ones,
            "done": shown.done,
            "patients": shown.patients,
            "past_due": shown.past_due,
            "show": consult_views.SHOWN.get(shown.show or ""),
            "labels": LABELS,
        },
    )


async def _econsult_form(
    request: web.Request, values: dict[str, Any], errors: dict[str, str], status: int = 200
) -> web.Response:
    """The e-consult form; each service says when an e-consult sent now would be due."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, settings = user.caller, request.app[SETTINGS]
    async with unit_of_work(request) as conn:
        choices = await consult_views.econsult_choices(
            conn, caller, trail_of(request, caller), settings, now_of(request)
        )
        chosen = _chosen(values, choices.patients)
        consent_gap = (
            await care.econsult_consent_gap(
                conn, caller, trail_of(request, caller), chosen, now_of(request)
            )
            if chosen is not None
            else None
        )
    spoke, services = choices.spoke, choices.services
    if len(services) == 1 and not values.get("service_id"):
        values = {**values, "service_id": str(services[0].service.id)}
    hours = choices.hub_hours
    return page(
        request,
        "spokes/econsult_new.html",
        {
            "spoke": spoke,
            "values": values,
            "errors": errors,
            "patients": [
                (p.id, f"{p.family_name}, {p.given_name} · MRN {p.mrn} · born {p.birth_date}")
                for p in choices.patients
            ],
            "services": [(t.service.id, t.service.name) for t in services],
            "turnarounds": [
                {
                    "name": t.service.name,
                    "within": consult_views.business_time_words(hours, t.routine_hours),
                    "due": local_time(t.routine_due, spoke.timezone),
                    "urgent_due": local_time(t.urgent_due, spoke.timezone),
                }
                for t in services
            ],
            "hub_hours": consult_views.business_hours_words(hours),
            "urgent_within": consult_views.business_time_words(hours, econsults.URGENT_HOURS),
            "labels": LABELS,
            "consent_gap": consent_gap,
            "chosen": chosen,
        },
        status=status,
    )


def _chosen(values: dict[str, Any], listed: list[Patient]) -> uuid.UUID | None:
    """The patient the form has chosen, if it is one of the clinic's listed patients."""
    wanted = str(values.get("patient_id", ""))
    return next((p.id for p in listed if str(p.id) == wanted), None)


@routes.get("/spoke/econsults/new", name="spoke_econsult_new")
async def econsult_new_page(request: web.Request) -> web.Response:
    """The e-consult form with the OUD clinical template."""
    signed_in(request, *ROLES_SPOKE)
    values: dict[str, Any] = {"urgency": "routine", NEEDS: []}
    if request.query.get("patient_id"):
        values["patient_id"] = request.query["patient_id"]
    return await _econsult_form(request, values, {})


@routes.post("/spoke/econsults/new", name="spoke_econsult_post")
async def submit_econsult(request: web.Request) -> web.Response:
    """Send the question to the hub; every error names its field and keeps what was typed."""
    user = signed_in(request, *ROLES_SPOKE)
    caller = user.caller
    typed: dict[str, Any] = await typed_form(request)
    typed[NEEDS] = await checked(request, NEEDS)
    parsed, errors = check(EconsultIn, econsult_body(typed, typed[NEEDS]), ECONSULT_INPUTS)
    if parsed is not None:
        new = econsults.NewEconsult(
            patient_id=parsed.patient_id,
            service_id=parsed.service_id,
            referring_clinician=parsed.referring_clinician,
            question=parsed.question,
            clinical_context=parsed.clinical_context.model_dump(mode="json"),
            urgency=parsed.urgency,
        )
        try:
            async with unit_of_work(request) as conn:
                sent = await econsults.submit(
                    conn,
                    caller,
                    trail_of(request, caller),
                    new,
                    settings=request.app[SETTINGS],
                    now=now_of(request),
                )
                spoke = await clinic_of(conn, caller)
        except ValidationFailed as failed:
            errors = errors_of(failed, ECONSULT_INPUTS)
        else:
            due = local_time(sent.due_at, spoke.timezone)
            target = url_for(request, "spoke_econsult", id=sent.id)
            raise await see_other(request, target, f"E-consult sent. The hub answers by {due}.")
    return await _econsult_form(request, typed, errors, status=422)


async def _econsult_page(
    request: web.Request,
    econsult_id: uuid.UUID,
    *,
    reply_values: dict[str, str] | None = None,
    reply_errors: dict[str, str] | None = None,
    visit_values: dict[str, str] | None = None,
    visit_errors: dict[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    """An e-consult: question, context, due time, the thread and the answer."""
    user = signed_in(request, *ROLES_SPOKE)
    caller, trail, now = user.caller, trail_of(request, user.caller), now_of(request)
    async with unit_of_work(request) as conn:
        case = await consult_views.econsult_case(conn, caller, trail, econsult_id, now)
    zone = case.spoke.timezone
    return page(
        request,
        "spokes/econsult.html",
        {
            "spoke": case.spoke,
            "e": case.econsult,
            "ctx": case.econsult.clinical_context,
            "patient": case.patient,
            "service": case.service,
            "consultant": case.consultant,
            "messages": case.messages,
            "open_question": case.open_question,
            "latest": case.latest,
            "visits": (
                None
                if case.visits is None
                else [
                    (
                        f"{v.service_id}|{utc_text(v.start)}",
                        f"{local_time(v.start, zone)} · {v.service_name}",
                    )
                    for v in case.visits
                ]
            ),
            "visit": case.visit,
            "past_due": case.past_due,
            "can_reply": case.econsult.status not in ("closed", "cancelled"),
            "reply_values": reply_values or {},
            "reply_errors": reply_errors or {},
            "visit_values": visit_values or {},
            "visit_errors": visit_errors or {},
            "labels": LABELS,
        },
        status=status,
    )


@routes.get("/spoke/econsults/{id}", name="spoke_econsult")
async def econsult_page(request: web.Request) -> web.Response:
    """One of the clinic's e-consults (another clinic's answers 404)."""
    return await _econsult_page(request, uuid_param(request, "id"))


@routes.post("/spoke/econsults/{id}/messages", name="spoke_econsult_message")
async def reply(request: web.Request) -> web.Response:
    """Answer in the thread; answering a hub question starts the hub's clock again."""
    user = signed_in(request, *ROLES_SPOKE)
    econsult_id = uuid_param(request, "id")
    typed = await typed_form(request)
    parsed, errors = check(MessageIn, pick(typed, ["body"]), ["body"])
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                before = await econsults.get(
                    conn, user.caller, trail_of(request, user.caller), econsult_id
                )
                await econsults.post_message(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    econsult_id,
                    body=parsed.body,
                    asks_clinic=False,
                    settings=request.app[SETTINGS],
                    now=now_of(request),
                )
        except Conflict as refused:
            errors, status = {"body": f"Not sent: {refused.detail}."}, 409
        else:
            notice = (
                "Answer sent. The hub's clock runs again."
                if before.status == "awaiting_clinic"
                else "Message sent to the hub."
            )
            raise await see_other(
                request, url_for(request, "spoke_econsult", id=econsult_id), notice
            )
    if errors.get("body") == "is required":
        errors["body"] = "Write your message before sending it"
    return await _econsult_page(
        request, econsult_id, reply_values=typed, reply_errors=errors, status=status
    )


@routes.post("/spoke/econsults/{id}/visit", name="spoke_econsult_visit")
async def book_visit(request: web.Request) -> web.Response:
    """Book the video visit the consult note recommends, for the same patient."""
    user = signed_in(request, *ROLES_SPOKE)
    econsult_id = uuid_param(request, "id")
    typed = await typed_form(request)
    service_id, _, start = typed.get("visit", "").partition("|")
    body = {"service_id": service_id, "consultant_id": typed.get("consultant_id"), "start": start}
    parsed, errors = check(VisitIn, {k: v for k, v in body.items() if v})
    status = 422
    if parsed is not None:
        try:
            async with unit_of_work(request) as conn:
                visit = await econsults.book_visit(
                    conn,
                    user.caller,
                    trail_of(request, user.caller),
                    econsult_id,
                    service_id=parsed.service_id,
                    consultant_id=parsed.consultant_id,
                    start=parsed.start,
                    now=now_of(request),
                    video_url_template=request.app[SETTINGS].video_url_template,
                )
        except SlotTaken:
            errors, status = (
                {"visit": "Someone booked this time a moment ago: choose another."},
                409,
            )
        except NotAnOpenSlot:
            errors = {"visit": "This time is not open any more: choose another."}
        except Conflict as refused:
            errors, status = {"visit": f"Not booked: {refused.detail}."}, 409
        except ValidationFailed as failed:
            errors = errors_of(failed)
        else:
            target = url_for(request, "spoke_booking", id=visit.id)
            raise await see_other(request, target, "Visit booked.")
    if errors and "visit" not in errors:
        field, message = next(iter(errors.items()))
        missing = message == "is required"
        wrong = f"{field_label(field, FIELD_LABELS)}: {message}"
        errors = {"visit": "Choose a time for the visit" if missing else wrong}
    return await _econsult_page(
        request, econsult_id, visit_values=typed, visit_errors=errors, status=status
    )
