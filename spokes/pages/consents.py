"""Part 2 consent pages: record a patient's consent (with its signed form), revoke one, and
the accounting of what was disclosed about the patient, with its print view.

The record form is a multipart form (it carries the signed form as a file); its inputs are
named by the consents API's fields, so a refusal names the same fields the API does and
shows the form again with each error at its input, storing nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

from aiohttp import web

from consults.part2 import NOTE_CATEGORIES
from spokes import care, consents
from spokes.pages.common import page
from telehub import labels
from telehub.errors import Conflict, PayloadTooLarge, ValidationFailed
from telehub.forms import errors_of, in_form_order
from telehub.keys import SETTINGS
from telehub.middleware import accepts_upload
from telehub.request import now_of, trail_of, unit_of_work, uuid_param
from telehub.web import ROLES_SPOKE, see_other, signed_in, url_for

routes = web.RouteTableDef()

FORM_MAX_BYTES = 5 * 1024 * 1024  # the signed form: PDF, PNG or JPEG, at most 5 MB
_TOO_LARGE = f"must be at most {FORM_MAX_BYTES // (1024 * 1024)} MB"
CONSENT_INPUTS = (
    "kind",
    "recipient_spoke_ids",
    "other_recipients",
    "disclose",
    "purpose",
    "signed_on",
    "expires_on",
    "form",
)
REVOKE_INPUTS = ("revoked_on", "how")
INPUT_LABELS: dict[str, str] = {
    "kind": "Kind of consent",
    "recipient_spoke_ids": "Recipients in the network",
    "other_recipients": "Other named recipients",
    "disclose": "What it covers",
    "purpose": "Purpose",
    "signed_on": "Signed on",
    "expires_on": "Expires on",
    "form": "Signed form",
    "revoked_on": "Revoked on",
    "how": "How the revocation came",
}
_LISTS = ("recipient_spoke_ids", "disclose")
# How a note was disclosed, in words (the accounting's channels).
CHANNELS: dict[str, str] = {
    "webhook": "Sent to the clinic's system (webhook)",
    "api": "Read through the API",
    "page": "Read on a Telehub page",
    "print": "Printed from Telehub",
    "export": "Exported",
    "fhir": "Read through FHIR",
}


class _TooLarge(Exception):
    """An input of the form is larger than it may be."""


async def _consent_page(
    request: web.Request,
    patient_id: uuid.UUID,
    *,
    values: Mapping[str, Any] | None = None,
    errors: Mapping[str, str] | None = None,
    status: int = 200,
) -> web.Response:
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        shown = await care.consent_choices(
            conn, user.caller, trail_of(request, user.caller), patient_id, now_of(request)
        )
    given = dict(values or {})
    if not values:  # a new form: the patient's clinic, every category but counseling notes
        given = {
            "kind": "tpo",
            "recipient_spoke_ids": [str(shown.spoke.id)],
            "disclose": [c for c in NOTE_CATEGORIES if c != "counseling_note"],
            "signed_on": shown.today.isoformat(),
        }
    return page(
        request,
        "spokes/consent_new.html",
        {
            "choices": shown,
            "spoke": shown.spoke,
            "patient": shown.patient,
            "values": given,
            "errors": dict(errors or {}),
            "kinds": labels.options("consent_kind"),
            "categories": [(c, labels.label(c, "note_category")) for c in NOTE_CATEGORIES],
            "input_labels": INPUT_LABELS,
            "max_mb": FORM_MAX_BYTES // (1024 * 1024),
        },
        status=status,
    )


@routes.get("/spoke/patients/{id}/consents/new", name="spoke_consent_new")
async def consent_new(request: web.Request) -> web.Response:
    """The form to record a patient's written consent to disclose Part 2 records."""
    return await _consent_page(request, uuid_param(request, "id"))


async def _read_form(
    request: web.Request,
) -> tuple[dict[str, Any], tuple[str, str, bytes] | None]:
    """The record form as posted, the file held to its cap. The middleware has read the body
    (up to this route's upload limit, `accepts_upload`) for its checks, so the parsed form is
    read here."""
    form = await request.post()
    values: dict[str, Any] = {name: [str(v) for v in form.getall(name, [])] for name in _LISTS}
    upload = None
    for name, value in form.items():
        if name in _LISTS or name == "csrf_token":
            continue
        if isinstance(value, web.FileField):
            with value.file:  # the parsed form's spooled copy: closed once read
                data = value.file.read(FORM_MAX_BYTES + 1)
            if len(data) > FORM_MAX_BYTES:
                raise _TooLarge(name)
            if data or value.filename:
                upload = (value.content_type, value.filename, data)
        else:
            values[name] = str(value)
    return values, upload


def _date(values: Mapping[str, Any], name: str, errors: dict[str, str]) -> date | None:
    text = str(values.get(name, "")).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        errors[name] = "must be a date, like 2027-03-01"
        return None


def _ids(values: Mapping[str, Any], errors: dict[str, str]) -> list[int]:
    ids: list[int] = []
    for i, text in enumerate(values.get("recipient_spoke_ids", [])):
        try:
            ids.append(int(text))
        except ValueError:
            errors.setdefault("recipient_spoke_ids", f"recipient {i + 1} is not a network clinic")
    return ids


@dataclass(frozen=True, slots=True)
class _Consent:
    """The record form, read: what `consents.record` takes."""

    kind: str
    signed_on: date
    expires_on: date | None
    recipient_spoke_ids: list[int]
    other_recipients: list[str]
    disclose: list[str]
    purpose: str | None


def _parse(values: Mapping[str, Any]) -> tuple[_Consent | None, dict[str, str]]:
    """The form's inputs as the consent to record, or the errors by input."""
    errors: dict[str, str] = {}
    kind = str(values.get("kind", "")).strip()
    if not kind:
        errors["kind"] = "choose one of the options listed"
    ids = _ids(values, errors)
    if not ids:
        errors["recipient_spoke_ids"] = "choose at least one"
    disclose = [str(v) for v in values.get("disclose", []) if str(v).strip()]
    if not disclose:
        errors["disclose"] = "choose at least one"
    signed_on = _date(values, "signed_on", errors)
    if signed_on is None and "signed_on" not in errors:
        errors["signed_on"] = "is required"
    expires_on = _date(values, "expires_on", errors)
    others = [line.strip() for line in str(values.get("other_recipients", "")).splitlines()]
    purpose = str(values.get("purpose", "")).strip() or None
    if errors or signed_on is None:
        return None, in_form_order(errors, CONSENT_INPUTS)
    return _Consent(
        kind, signed_on, expires_on, ids, [o for o in others if o], disclose, purpose
    ), {}


@routes.post("/spoke/patients/{id}/consents", name="spoke_consent_record")
@accepts_upload(FORM_MAX_BYTES)
async def consent_record(request: web.Request) -> web.StreamResponse:
    """Record the consent (and its signed form); held notes it covers go out at once."""
    user = signed_in(request, *ROLES_SPOKE)
    patient_id = uuid_param(request, "id")
    try:
        values, upload = await _read_form(request)
    except _TooLarge as too_large:
        errors = {str(too_large): _TOO_LARGE}
        return await _consent_page(request, patient_id, errors=errors, status=413)
    kept = {k: v for k, v in values.items() if k != "csrf_token"}
    parsed, errors = _parse(values)
    if upload is not None:
        try:
            consents.check_form(upload[0], upload[2])
        except ValidationFailed as failed:
            errors = in_form_order({**errors, **errors_of(failed, CONSENT_INPUTS)}, CONSENT_INPUTS)
        except PayloadTooLarge:
            errors = in_form_order({**errors, "form": _TOO_LARGE}, CONSENT_INPUTS)
    if parsed is None or errors:
        return await _consent_page(request, patient_id, values=kept, errors=errors, status=422)
    trail = trail_of(request, user.caller)
    try:
        async with unit_of_work(request) as conn:
            recorded = await consents.record(
                conn,
                user.caller,
                trail,
                patient_id,
                kind=parsed.kind,
                signed_on=parsed.signed_on,
                expires_on=parsed.expires_on,
                recipient_spoke_ids=parsed.recipient_spoke_ids,
                other_recipients=parsed.other_recipients,
                disclose=parsed.disclose,
                purpose=parsed.purpose,
                base_url=request.app[SETTINGS].base_url,
                now=now_of(request),
            )
            if upload is not None:
                content_type, filename, data = upload
                await consents.attach_form(
                    conn,
                    user.caller,
                    trail,
                    recorded.consent.id,
                    content_type=content_type,
                    filename=filename,
                    data=data,
                )
    except ValidationFailed as failed:
        errors = errors_of(failed, CONSENT_INPUTS)
        return await _consent_page(request, patient_id, values=kept, errors=errors, status=422)
    released = recorded.released
    said = "Consent recorded."
    if released:
        said += f" {released} held note{'s' if released != 1 else ''} sent to the clinic."
    raise await see_other(
        request, f"{url_for(request, 'spoke_patient', id=patient_id)}#consent", said
    )


@routes.post("/spoke/consents/{id}/revoke", name="spoke_consent_revoke")
async def consent_revoke(request: web.Request) -> web.StreamResponse:
    """Record the patient's revocation: no disclosure under it from now on."""
    user = signed_in(request, *ROLES_SPOKE)
    consent_id = uuid_param(request, "id")
    form = await request.post()
    errors: dict[str, str] = {}
    revoked_on = _date(form, "revoked_on", errors)
    if revoked_on is None and not errors:
        errors["revoked_on"] = "is required"
    how = str(form.get("how", "")).strip()
    if how not in labels.REVOKED_HOW:
        errors["how"] = "choose one of the options listed"
    trail = trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        consent = await consents.get(conn, user.caller, trail, consent_id)
        if revoked_on is not None and not errors:
            try:
                await consents.revoke(
                    conn,
                    user.caller,
                    trail,
                    consent_id,
                    revoked_on=revoked_on,
                    how=how,
                    base_url=request.app[SETTINGS].base_url,
                    now=now_of(request),
                )
            except ValidationFailed as failed:
                errors = errors_of(failed, REVOKE_INPUTS)
            except Conflict:
                errors = {"revoked_on": "this consent was revoked already"}
    target = url_for(request, "spoke_patient", id=consent.patient_id)
    if errors:
        words = "; ".join(f"{INPUT_LABELS.get(k, k)}: {v}" for k, v in errors.items())
        raise await see_other(request, f"{target}#consent", f"Not revoked. {words}")
    raise await see_other(
        request, f"{target}#consent", "Consent revoked: nothing more is disclosed under it."
    )


@routes.post("/spoke/consents/{id}/form", name="spoke_consent_form_upload")
@accepts_upload(FORM_MAX_BYTES)
async def consent_form_upload(request: web.Request) -> web.StreamResponse:
    """Attach the signed form to a consent recorded without it (one form per consent)."""
    user = signed_in(request, *ROLES_SPOKE)
    consent_id = uuid_param(request, "id")
    problem: str | None = None
    try:
        _, upload = await _read_form(request)
    except _TooLarge:
        upload, problem = None, f"Signed form: {_TOO_LARGE}"
    if upload is None and problem is None:
        problem = "Signed form: choose a file"
    trail = trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        consent = await consents.get(conn, user.caller, trail, consent_id)
    if upload is not None:
        content_type, filename, data = upload
        try:
            async with unit_of_work(request) as conn:
                await consents.attach_form(
                    conn,
                    user.caller,
                    trail,
                    consent_id,
                    content_type=content_type,
                    filename=filename,
                    data=data,
                )
        except ValidationFailed as failed:
            problem = "; ".join(f"Signed form: {e}" for e in errors_of(failed).values())
        except Conflict:
            problem = "Signed form: this consent has its signed form already"
        except PayloadTooLarge:
            problem = f"Signed form: {_TOO_LARGE}"
    target = f"{url_for(request, 'spoke_patient', id=consent.patient_id)}#consent"
    said = f"Not attached. {problem}." if problem else "Signed form attached to the consent."
    raise await see_other(request, target, said)


@routes.get("/spoke/consents/{id}/form", name="spoke_consent_form")
async def consent_form_download(request: web.Request) -> web.Response:
    """The consent's signed form as uploaded, as a download (the patient's clinic only)."""
    user = signed_in(request, *ROLES_SPOKE)
    async with unit_of_work(request) as conn:
        found = await consents.form(
            conn, user.caller, trail_of(request, user.caller), uuid_param(request, "id")
        )
    response = web.Response(body=found.data, content_type=found.content_type)
    safe = "".join(c if c.isalnum() or c in "._-" else "_" for c in found.filename)
    response.headers["Content-Disposition"] = f'attachment; filename="{safe}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


async def _disclosures(request: web.Request) -> dict[str, Any]:
    user = signed_in(request, *ROLES_SPOKE)
    patient_id = uuid_param(request, "id")
    since_text = request.query.get("since", "").strip()
    since: date | None = None
    error: str | None = None
    if since_text:
        try:
            since = date.fromisoformat(since_text)
        except ValueError:
            error = "must be a date, like 2027-03-01"
    trail = trail_of(request, user.caller)
    async with unit_of_work(request) as conn:
        shown = await care.disclosure_list(
            conn, user.caller, trail, patient_id, now_of(request), since=since
        )
    return {
        "d": shown,
        "spoke": shown.spoke,
        "patient": shown.patient,
        "since": since_text,
        "errors": in_form_order({"since": error} if error else {}, ("since",)),
        "input_labels": {"since": "Since"},
        "channels": CHANNELS,
    }


@routes.get("/spoke/patients/{id}/disclosures", name="spoke_disclosures")
async def disclosures_page(request: web.Request) -> web.Response:
    """What was disclosed about the patient, to whom, how, under which consent, by whom."""
    shown = await _disclosures(request)
    return page(request, "spokes/disclosures.html", shown, status=422 if shown["errors"] else 200)


@routes.get("/spoke/patients/{id}/disclosures/print", name="spoke_disclosures_print")
async def disclosures_print(request: web.Request) -> web.Response:
    """The accounting of disclosures on paper, for the patient who asked for it."""
    shown = await _disclosures(request)
    return page(
        request, "spokes/disclosures_print.html", shown, status=422 if shown["errors"] else 200
    )
