"""What the clinic's pages share: the e-consult form's inputs to the API's model, labels, wording.

Inputs are named by the dotted path of the field they fill (``clinical_context.phq9``), so a
validation error's field names its input, and the error shows next to it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, get_args

from aiohttp import web

from consults.schemas import MoudMedication, Need, ScreenResult, Substance
from spokes.overview import clinic_of as clinic_of  # the pages find it here
from telehub.fields import US_STATES
from telehub.forms import pick
from telehub.labels import MOUD_MEDICATIONS
from telehub.validation import Input
from telehub.web import render
from telehub.web import utc_text as utc_text

In = TypeVar("In", bound=Input)

STATES = sorted(US_STATES)
MEDICATION_LABELS = MOUD_MEDICATIONS
SUBSTANCE_LABELS = {s: s.capitalize() for s in get_args(Substance)}
RESULT_LABELS: dict[str, str] = {
    "positive": "Positive",
    "negative": "Negative",
    "not_tested": "Not tested",
}
NEED_LABELS = {n: n.capitalize() for n in get_args(Need)}
assert set(MEDICATION_LABELS) == set(get_args(MoudMedication))
assert set(RESULT_LABELS) == set(get_args(ScreenResult))

CONTEXT = "clinical_context"
MOUD = f"{CONTEXT}.current_moud"
UDS = f"{CONTEXT}.urine_drug_screen"
PAIN = f"{CONTEXT}.pain"
NEEDS = f"{CONTEXT}.psychosocial_needs"
DIAGNOSES = f"{CONTEXT}.co_occurring_diagnoses"
_ECONSULT_TOP = ("patient_id", "service_id", "referring_clinician", "question", "urgency")
_CONTEXT_TEXT = ("phq9", "gad7", "family_involvement", "other")
# Every input of the e-consult form in the order it shows them, so each error can be placed
# next to one and the summary lists them top to bottom.
ECONSULT_INPUTS = (
    *_ECONSULT_TOP,
    *(f"{MOUD}.{k}" for k in ("medication", "daily_dose_mg", "since")),
    f"{CONTEXT}.phq9",
    f"{CONTEXT}.gad7",
    DIAGNOSES,
    f"{UDS}.collected_on",
    *(f"{UDS}.results.{s}" for s in SUBSTANCE_LABELS),
    *(f"{PAIN}.{k}" for k in ("present", "score", "notes")),
    NEEDS,
    f"{CONTEXT}.family_involvement",
    f"{CONTEXT}.other",
)


# How the clinic's forms label their inputs where telehub.forms.LABELS (the fallback) differs.
FIELD_LABELS: dict[str, str] = {
    "referring_clinician": "Referring clinician",
    "visit": "Visit time",
    "mrn": "MRN",
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Date of birth",
    "state": "State of residence",
    f"{MOUD}.medication": "MOUD medication",
    f"{MOUD}.daily_dose_mg": "MOUD daily dose",
    f"{MOUD}.since": "MOUD taken since",
    f"{CONTEXT}.phq9": "PHQ-9",
    f"{CONTEXT}.gad7": "GAD-7",
    DIAGNOSES: "Co-occurring diagnoses",
    f"{UDS}.collected_on": "Urine drug screen collected on",
    **{f"{UDS}.results.{k}": f"{v} (urine drug screen)" for k, v in SUBSTANCE_LABELS.items()},
    f"{PAIN}.present": "Pain",
    f"{PAIN}.score": "Pain score",
    f"{PAIN}.notes": "Pain notes",
    NEEDS: "Psychosocial needs",
    f"{CONTEXT}.family_involvement": "Family involvement",
    f"{CONTEXT}.other": "Anything else",
}


def page(
    request: web.Request, template: str, context: Mapping[str, Any], *, status: int = 200
) -> web.Response:
    """A clinic page; its error summary names fields as the form labels them."""
    return render(request, template, {**context, "field_labels": FIELD_LABELS}, status=status)


def econsult_body(typed: Mapping[str, str], needs: list[str]) -> dict[str, Any]:
    """The nested EconsultIn body from the e-consult form's flat inputs."""
    body: dict[str, Any] = pick(typed, _ECONSULT_TOP)
    context: dict[str, Any] = {
        k.removeprefix(f"{CONTEXT}."): v
        for k, v in pick(typed, [f"{CONTEXT}.{k}" for k in _CONTEXT_TEXT]).items()
    }
    moud = pick(typed, [f"{MOUD}.{k}" for k in ("medication", "daily_dose_mg", "since")])
    if moud:
        context["current_moud"] = {k.removeprefix(f"{MOUD}."): v for k, v in moud.items()}
    diagnoses = [line.strip() for line in typed.get(DIAGNOSES, "").splitlines() if line.strip()]
    if diagnoses:
        context["co_occurring_diagnoses"] = diagnoses
    results = {
        k.removeprefix(f"{UDS}.results."): v
        for k, v in pick(typed, [f"{UDS}.results.{s}" for s in SUBSTANCE_LABELS]).items()
    }
    collected = pick(typed, [f"{UDS}.collected_on"])
    if results or collected:
        context["urine_drug_screen"] = {
            "results": results,
            **{k.removeprefix(f"{UDS}."): v for k, v in collected.items()},
        }
    pain = pick(typed, [f"{PAIN}.score", f"{PAIN}.notes"])
    present = f"{PAIN}.present" in typed
    if present or pain:
        context["pain"] = {
            "present": present,
            **{k.removeprefix(f"{PAIN}."): v for k, v in pain.items()},
        }
    if needs:
        context["psychosocial_needs"] = needs
    body[CONTEXT] = context
    return body


TAKEN = "Someone booked this time a moment ago. Nothing was booked: choose another time."
NOT_OPEN = (
    "This time is not open any more (too soon, past the booking horizon, or the consultant is "
    "not licensed in the patient's state). Nothing was booked: choose another time."
)


def sentence(text: str) -> str:
    """A domain message as a sentence."""
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
