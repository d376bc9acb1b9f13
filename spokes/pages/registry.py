"""The care manager's pages: the caseload, a patient's episode of care, and the month's minutes.

Every form is read into the registry API's own models (`care.schemas`) through
`telehub.forms`; a refusal shows the page again with each error at its input and changes
nothing. The episode page holds several forms, so each form's inputs carry its name as a
prefix (`phq9.items.8`, `contact.minutes`): the API's field names behind the prefix.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any

from aiohttp import web

from care import registry, rules, schemas, views
from care.billing_csv import report_csv, report_filename
from care.billing_schemas import parse_month
from spokes.pages.common import MEDICATION_LABELS, RESULT_LABELS, SUBSTANCE_LABELS, page, sentence
from telehub import labels
from telehub.csv_export import csv_download
from telehub.errors import Conflict, ValidationFailed
from telehub.forms import check, errors_of, in_form_order, typed_form
from telehub.keys import SETTINGS
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.users import User
from telehub.validation import Input
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()

ENROL_INPUTS = ("program", "care_manager_id", "treating_clinician", "consultant_id", "started_on")
CONTACT_INPUTS = ("contact_on", "minutes", "kind", "who", "counts")
CLOSE_INPUTS = ("ended_on", "end_reason", "confirmed")
QUESTIONNAIRE_INPUTS = ("measured_on", "items")
MOUD_INPUTS = ("measured_on", "adherence", "medication", "daily_dose_mg")
SCREEN_INPUTS = ("measured_on", "results")
# What the forms call their inputs, where the shared wording differs.
INPUT_LABELS: dict[str, str] = {
    "program": "Program",
    "care_manager_id": "Care manager",
    "treating_clinician": "Treating clinician",
    "started_on": "Start date",
    "contact.contact_on": "Contact date",
    "contact.minutes": "Minutes",
    "contact.kind": "Kind of contact",
    "contact.who": "With",
    "close.ended_on": "Ended on",
    "close.end_reason": "Reason for closing",
    "close.confirmed": "Confirm",
    "phq9.measured_on": "PHQ-9 answered on",
    "gad7.measured_on": "GAD-7 answered on",
    "moud.measured_on": "Medication as of",
    "moud.adherence": "Taking it",
    "moud.medication": "Medication",
    "moud.daily_dose_mg": "Daily dose",
    "urine_drug_screen.measured_on": "Screen collected on",
    "urine_drug_screen.results": "Screen results",
    **{f"phq9.items.{i}": f"PHQ-9 question {i + 1}" for i in range(rules.PHQ9_ITEMS)},
    **{f"gad7.items.{i}": f"GAD-7 question {i + 1}" for i in range(rules.GAD7_ITEMS)},
    **{f"urine_drug_screen.results.{s}": w for s, w in SUBSTANCE_LABELS.items()},
}
CONTACT_MINUTES = "15"  # the common call, prefilled
CONTACT_KIND = "phone"
MEASURE_MODELS: dict[str, type[Input]] = {
    "phq9": schemas.Phq9In,
    "gad7": schemas.Gad7In,
    "moud": schemas.MoudIn,
    "urine_drug_screen": schemas.ScreenIn,
}


def _prefixed(errors: Mapping[str, str], prefix: str) -> dict[str, str]:
    return {f"{prefix}.{name}": words for name, words in errors.items()}


def _form_values(typed: Mapping[str, str], prefix: str) -> dict[str, str]:
    """One form's non-blank inputs, without its prefix."""
    start = f"{prefix}."
    return {
        k.removeprefix(start): v.strip()
        for k, v in typed.items()
        if k.startswith(start) and v.strip()
    }


def _checked(
    model: type[Input], body: Mapping[str, Any], names: tuple[str, ...], prefix: str
) -> tuple[Any, dict[str, str]]:
    parsed, errors = check(model, body, names)
    return parsed, _prefixed(errors, prefix)


def _refused(failed: ValidationFailed, names: tuple[str, ...], prefix: str = "") -> dict[str, str]:
    errors = errors_of(failed, names)
    return _prefixed(errors, prefix) if prefix else errors


# --- the caseload ----------------------------------------------------------------------------


@routes.get("/spoke/registry", name="spoke_registry")
async def caseload_page(request: web.Request) -> web.Response:
    """The clinic's open episodes, most urgent first, filtered by program and flag."""
    user = signed_in(request, *ROLES_SPOKE)
    filters = {k: request.query.get(k, "").strip() for k in ("program", "flag")}
    errors = {
        name: "choose one of the options listed"
        for name, vocabulary in (("program", "program"), ("flag", "flag"))
        if filters[name] and filters[name] not in dict(labels.options(vocabulary))
    }
    async with unit_of_work(request) as conn:
        shown = await views.caseload(
            conn,
            user.caller,
            trail_of(request, user.caller),
            now=now_of(request),
            program=None if errors else filters["program"] or None,
            flag=None if errors else filters["flag"] or None,
        )
    return page(
        request,
        "spokes/registry.html",
        {
            "c": shown,
            "filters": filters,
            "errors": errors,
            "programs": labels.options("program"),
            "flags": [(f, labels.label(f, "flag")) for f in rules.FLAG_ORDER],
        },
        status=422 if errors else 200,
    )


# --- the month's minutes ---------------------------------------------------------------------


def _month(request: web.Request, today: date) -> tuple[date, dict[str, str]]:
    typed = request.query.get("month", "").strip()
    if not typed:
        return today.replace(day=1), {}
    try:
        return parse_month(typed), {}
    except ValueError:
        return today.replace(day=1), {"month": "must be a month, like 2027-01"}


@routes.get("/spoke/registry/billing", name="spoke_registry_billing")
async def billing_page(request: web.Request) -> web.Response:
    """The month's billing report: per patient the counted minutes and the codes they support."""
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        today = await registry.clinic_today(conn, _clinic_id(user), now_of(request))
        month, errors = _month(request, today)
        shown = await views.billing(conn, user.caller, trail_of(request, user.caller), month=month)
    return page(
        request,
        "spokes/registry_billing.html",
        {"b": shown, "errors": errors, "values": {"month": request.query.get("month", "")}},
        status=422 if errors else 200,
    )


@routes.get("/spoke/registry/billing.csv", name="spoke_registry_billing_csv")
async def billing_csv(request: web.Request) -> web.Response:
    """The month's billing report as the API's CSV, with the patients named."""
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        today = await registry.clinic_today(conn, _clinic_id(user), now_of(request))
        month, errors = _month(request, today)
        if errors:
            raise web.HTTPUnprocessableEntity(text="month: must be a month, like 2027-01")
        shown = await views.billing(conn, user.caller, trail_of(request, user.caller), month=month)
    report = shown.report
    return csv_download(report_csv(report), report_filename(report))


def _clinic_id(user: User) -> int:
    assert user.spoke_id is not None  # ROLES_SPOKE are clinic users
    return user.spoke_id


# --- one episode -----------------------------------------------------------------------------


def _contact_defaults(today: date) -> dict[str, str]:
    """The contact form as the common call fills it: today, 15 minutes by phone, counting."""
    return {
        "contact.contact_on": today.isoformat(),
        "contact.minutes": CONTACT_MINUTES,
        "contact.kind": CONTACT_KIND,
        "contact.who": "Patient",
        "contact.counts": "true",
    }


def _forms_context(today: date) -> dict[str, Any]:
    """What the episode page's forms offer."""
    return {
        "questionnaires": views.QUESTIONNAIRES,
        "stem": views.STEM,
        "answers": views.ANSWERS,
        "bands": {
            kind: [[lowest, labels.label(name, "severity")] for lowest, name in q.bands]
            for kind, q in views.QUESTIONNAIRES.items()
        },
        "safety_item": rules.SAFETY_ITEM,
        "adherence": labels.options("adherence"),
        "medications": [(k, v) for k, v in MEDICATION_LABELS.items() if k != "none"],
        "medication_words": MEDICATION_LABELS,
        "substances": list(SUBSTANCE_LABELS.items()),
        "substance_words": SUBSTANCE_LABELS,
        "results": list(RESULT_LABELS.items()),
        "contact_kinds": labels.options("contact_kind"),
        "contact_defaults": _contact_defaults(today),
        "end_reasons": labels.options("end_reason"),
        "severity": views.severity,
        "remission": rules.REMISSION_BELOW,
        "input_labels": INPUT_LABELS,
    }


async def _episode_page(
    request: web.Request,
    episode_id: uuid.UUID,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    form: str | None = None,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        shown = await views.episode(
            conn, user.caller, trail_of(request, user.caller), episode_id, now=now_of(request)
        )
    return page(
        request,
        "spokes/registry_episode.html",
        {
            **_forms_context(shown.today),
            "v": shown,
            "values": dict(values or {}),
            "errors": dict(errors or {}),
            "form": form,
            "target": views.target_of(shown.trend),
            "back": None,
        },
        status=422 if errors else 200,
    )


@routes.get("/spoke/registry/{episode_id}", name="spoke_registry_episode")
async def episode_page(request: web.Request) -> web.Response:
    """One episode: the patient, team, flags, trend, measures, contacts, and the forms."""
    return await _episode_page(request, uuid_param(request, "episode_id"))


def _questionnaire_body(
    form: Mapping[str, str], kind: str
) -> tuple[dict[str, Any], dict[str, str]]:
    """A questionnaire's answers as the API's items; an unanswered question is named."""
    count = len(views.QUESTIONNAIRES[kind].items)
    missing = {f"items.{i}": "choose an answer" for i in range(count) if f"items.{i}" not in form}
    body: dict[str, Any] = {"kind": kind, **{k: v for k, v in form.items() if k == "measured_on"}}
    answers = [form.get(f"items.{i}", "") for i in range(count)]
    # The API takes whole numbers only; a radio's value is text.
    body["items"] = [int(a) if a.isdigit() else a or None for a in answers]
    return body, missing


def _measure_body(form: Mapping[str, str], kind: str) -> tuple[dict[str, Any], dict[str, str]]:
    if kind in views.QUESTIONNAIRES:
        return _questionnaire_body(form, kind)
    if kind == "urine_drug_screen":
        results = {
            k.removeprefix("results."): v for k, v in form.items() if k.startswith("results.")
        }
        body: dict[str, Any] = {"kind": kind, "results": results}
        if "measured_on" in form:
            body["measured_on"] = form["measured_on"]
        return body, {}
    return {"kind": kind, **form}, {}


def _measure_fields(parsed: Input) -> dict[str, Any]:
    """A parsed measure as record_measure's keyword arguments."""
    fields = parsed.model_dump(exclude={"results"})
    if isinstance(parsed, schemas.ScreenIn):
        fields["screen"] = dict(parsed.results)
    return fields


MEASURE_INPUTS: dict[str, tuple[str, ...]] = {
    "phq9": QUESTIONNAIRE_INPUTS + tuple(f"items.{i}" for i in range(rules.PHQ9_ITEMS)),
    "gad7": QUESTIONNAIRE_INPUTS + tuple(f"items.{i}" for i in range(rules.GAD7_ITEMS)),
    "moud": MOUD_INPUTS,
    "urine_drug_screen": SCREEN_INPUTS + tuple(f"results.{s}" for s in SUBSTANCE_LABELS),
}


@routes.post("/spoke/registry/{episode_id}/measures/{kind}", name="spoke_registry_measure")
async def record_measure(request: web.Request) -> web.StreamResponse:
    """Save a PHQ-9, GAD-7, medication or drug screen; the server computes the score."""
    user = signed_in(request, *ROLES_SPOKE)
    episode_id = uuid_param(request, "episode_id")
    kind = request.match_info["kind"]
    if kind not in MEASURE_INPUTS:
        raise web.HTTPNotFound()
    typed = await typed_form(request)
    body, missing = _measure_body(_form_values(typed, kind), kind)
    names = MEASURE_INPUTS[kind]
    parsed, errors = _checked(MEASURE_MODELS[kind], body, names, kind)
    errors = in_form_order({**errors, **_prefixed(missing, kind)}, [f"{kind}.{n}" for n in names])
    if parsed is None or errors:
        return await _episode_page(request, episode_id, values=typed, errors=errors, form=kind)
    try:
        async with unit_of_work(request) as conn:
            measure = await registry.record_measure(
                conn,
                user.caller,
                trail_of(request, user.caller),
                episode_id,
                **_measure_fields(parsed),
                base_url=request.app[SETTINGS].base_url,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        errors = _refused(failed, names, kind)
        return await _episode_page(request, episode_id, values=typed, errors=errors, form=kind)
    except Conflict as refused:
        errors = {"form": sentence(refused.detail)}
        return await _episode_page(request, episode_id, values=typed, errors=errors, form=kind)
    words = labels.label(kind, "measure_kind")
    anchor = f"measure-{measure.id}"
    raise await see_other(
        request,
        url_for(request, "spoke_registry_episode", episode_id=episode_id) + f"#{anchor}",
        f"{words} saved.",
    )


@routes.get("/spoke/registry/{episode_id}/contact", name="spoke_registry_contact")
async def contact_page(request: web.Request) -> web.Response:
    """The contact form alone, filled in for a 15-minute phone call today (from the caseload)."""
    return await _contact_page(request, uuid_param(request, "episode_id"))


async def _contact_page(
    request: web.Request,
    episode_id: uuid.UUID,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        shown = await views.contact_form(
            conn, user.caller, trail_of(request, user.caller), episode_id, now=now_of(request)
        )
    return page(
        request,
        "spokes/registry_contact.html",
        {
            **_forms_context(shown.today),
            "episode": shown.episode,
            "patient": shown.patient,
            "eid": str(episode_id),
            "values": dict(values or {}),
            "errors": dict(errors or {}),
            "back": "caseload",
        },
        status=422 if errors else 200,
    )


@routes.post("/spoke/registry/{episode_id}/contacts", name="spoke_registry_contact_post")
async def record_contact(request: web.Request) -> web.StreamResponse:
    """Save a contact; back to the caseload when it was logged from there."""
    user = signed_in(request, *ROLES_SPOKE)
    episode_id = uuid_param(request, "episode_id")
    typed = await typed_form(request)
    from_caseload = typed.get("back") == "caseload"
    body: dict[str, Any] = _form_values(typed, "contact")
    body["counts"] = body.get("counts") == "true"
    parsed, errors = _checked(schemas.ContactIn, body, CONTACT_INPUTS, "contact")

    async def again(errors: dict[str, str]) -> web.Response:
        if from_caseload:
            return await _contact_page(request, episode_id, values=typed, errors=errors)
        return await _episode_page(request, episode_id, values=typed, errors=errors, form="contact")

    if parsed is None or errors:
        return await again(errors)
    try:
        async with unit_of_work(request) as conn:
            await registry.record_contact(
                conn,
                user.caller,
                trail_of(request, user.caller),
                episode_id,
                contact_on=parsed.contact_on,
                minutes=parsed.minutes,
                kind=parsed.kind,
                who=parsed.who,
                counts=parsed.counts,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        return await again(_refused(failed, CONTACT_INPUTS, "contact"))
    except Conflict as refused:
        return await again({"form": sentence(refused.detail)})
    done = f"Contact saved: {parsed.minutes} minutes."
    if from_caseload:
        raise await see_other(
            request, url_for(request, "spoke_registry") + f"#episode-{episode_id}", done
        )
    raise await see_other(
        request,
        url_for(request, "spoke_registry_episode", episode_id=episode_id) + "#contacts",
        done,
    )


@routes.post("/spoke/registry/{episode_id}/close", name="spoke_registry_close")
async def close_episode(request: web.Request) -> web.StreamResponse:
    """Close the episode (confirmed on the form) with its end date and reason."""
    user = signed_in(request, *ROLES_SPOKE)
    episode_id = uuid_param(request, "episode_id")
    typed = await typed_form(request)
    body = _form_values(typed, "close")
    confirmed = body.pop("confirmed", "") == "yes"
    parsed, errors = _checked(schemas.CloseIn, body, CLOSE_INPUTS, "close")
    if not confirmed:
        errors["close.confirmed"] = "tick the box to confirm closing the episode"
    errors = in_form_order(errors, [f"close.{n}" for n in CLOSE_INPUTS])
    if parsed is None or errors:
        return await _episode_page(request, episode_id, values=typed, errors=errors, form="close")
    try:
        async with unit_of_work(request) as conn:
            await registry.close(
                conn,
                user.caller,
                trail_of(request, user.caller),
                episode_id,
                ended_on=parsed.ended_on,
                end_reason=parsed.end_reason,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        errors = _refused(failed, CLOSE_INPUTS, "close")
        return await _episode_page(request, episode_id, values=typed, errors=errors, form="close")
    except Conflict as refused:
        errors = {"form": sentence(refused.detail)}
        return await _episode_page(request, episode_id, values=typed, errors=errors, form="close")
    raise await see_other(
        request,
        url_for(request, "spoke_registry_episode", episode_id=episode_id),
        "Episode closed.",
    )


# --- enrolment -------------------------------------------------------------------------------


async def _enrol_page(
    request: web.Request,
    patient_id: uuid.UUID,
    *,
    values: Mapping[str, str] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        shown = await views.enrol_choices(
            conn, user.caller, trail_of(request, user.caller), patient_id, now=now_of(request)
        )
    return page(
        request,
        "spokes/registry_enrol.html",
        {
            "choices": shown,
            "values": dict(values or {}),
            "errors": dict(errors or {}),
            "programs": labels.options("program"),
            "consultant_options": [
                (c.id, f"{c.name} ({labels.label(c.role, 'consultant_role')})")
                for c in shown.consultants
            ],
            "input_labels": INPUT_LABELS,
        },
        status=status,
    )


@routes.get("/spoke/patients/{id}/episodes/new", name="spoke_registry_enrol")
async def enrol_page(request: web.Request) -> web.Response:
    """Enrol one of the clinic's patients in an episode of care."""
    return await _enrol_page(request, uuid_param(request, "id"))


@routes.post("/spoke/patients/{id}/episodes", name="spoke_registry_enrol_post")
async def enrol(request: web.Request) -> web.StreamResponse:
    """Open the episode; a refusal shows the form again with the error at its field."""
    user = signed_in(request, *ROLES_SPOKE)
    patient_id = uuid_param(request, "id")
    typed = await typed_form(request)
    body = {k: v.strip() for k, v in typed.items() if k in ENROL_INPUTS and v.strip()}
    parsed, errors = check(schemas.EpisodeIn, body, ENROL_INPUTS)
    if parsed is None or errors:
        return await _enrol_page(request, patient_id, values=typed, errors=errors, status=422)
    try:
        async with unit_of_work(request) as conn:
            episode = await registry.enrol(
                conn,
                user.caller,
                trail_of(request, user.caller),
                patient_id,
                program=parsed.program,
                care_manager_id=parsed.care_manager_id,
                treating_clinician=parsed.treating_clinician,
                consultant_id=parsed.consultant_id,
                started_on=parsed.started_on,
                now=now_of(request),
            )
    except ValidationFailed as failed:
        errors = _refused(failed, ENROL_INPUTS)
        return await _enrol_page(request, patient_id, values=typed, errors=errors, status=422)
    except Conflict:
        errors = {"program": "the patient is already enrolled in this program (an open episode)"}
        return await _enrol_page(request, patient_id, values=typed, errors=errors, status=409)
    raise await see_other(
        request,
        url_for(request, "spoke_registry_episode", episode_id=episode.id),
        f"Enrolled in {labels.label(episode.program, 'program').lower()}.",
    )
