"""Request and response models of the registry API."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Annotated, Any, Literal, cast

from pydantic import Field, StrictInt, TypeAdapter, ValidationError, model_validator

from care import rules
from consults.schemas import MoudMedication, ScreenResult, Substance
from telehub.fields import Id, OneLine
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

Program = rules.Program
EndReason = Literal["remission", "transferred", "lost_to_follow_up", "declined"]
MeasureKind = Literal["phq9", "gad7", "moud", "urine_drug_screen"]
ContactKind = Literal["phone", "video", "in_person", "case_review"]
Severity = Literal["minimal", "mild", "moderate", "moderately_severe", "severe"]
Item = Annotated[StrictInt, Field(ge=0, le=rules.ITEM_MAX)]

# --- episodes ------------------------------------------------------------------------------


class EpisodeIn(Input):
    """Enrol one of the clinic's patients in a program."""

    program: Program
    care_manager_id: Id = Field(description="A user of role care_manager in the caller's clinic")
    treating_clinician: OneLine = Field(min_length=1, max_length=200)
    consultant_id: Id = Field(
        description="An active psychiatric consultant (for oud, also an addiction medicine "
        "specialist)"
    )
    started_on: date = Field(description="Not after today in the clinic's time zone")


class CloseIn(Input):
    """End an open episode."""

    ended_on: date = Field(description="Not before the start, not after the clinic's today")
    end_reason: EndReason


class EpisodeOut(Output):
    """An episode of care."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    program: Program
    care_manager_id: int
    treating_clinician: str
    consultant_id: int
    started_on: date
    ended_on: date | None
    end_reason: EndReason | None
    created_at: UtcDatetime


class EpisodesOut(Output):
    """A patient's episodes, open and closed, newest start first."""

    episodes: list[EpisodeOut]


# --- measures ------------------------------------------------------------------------------

_COMPUTED = "the total is computed from the items, never sent"


class Phq9In(Input):
    """A PHQ-9: nine answers, each 0 to 3."""

    kind: Literal["phq9"]
    measured_on: date
    items: list[Item] = Field(min_length=rules.PHQ9_ITEMS, max_length=rules.PHQ9_ITEMS)


class Gad7In(Input):
    """A GAD-7: seven answers, each 0 to 3."""

    kind: Literal["gad7"]
    measured_on: date
    items: list[Item] = Field(min_length=rules.GAD7_ITEMS, max_length=rules.GAD7_ITEMS)


class MoudIn(Input):
    """Adherence to medication for opioid use disorder (oud episodes only)."""

    kind: Literal["moud"]
    measured_on: date
    adherence: rules.Adherence
    medication: MoudMedication
    daily_dose_mg: float | None = Field(None, ge=0, le=2000)


class ScreenIn(Input):
    """A urine drug screen's panel (oud episodes only)."""

    kind: Literal["urine_drug_screen"]
    measured_on: date
    results: dict[Substance, ScreenResult] = Field(min_length=1)


MEASURE_MODELS: dict[str, type[Input]] = {
    "phq9": Phq9In,
    "gad7": Gad7In,
    "moud": MoudIn,
    "urine_drug_screen": ScreenIn,
}
AnyMeasureIn = Annotated[Phq9In | Gad7In | MoudIn | ScreenIn, Field(discriminator="kind")]
# (mypy reads an Annotated union as a value, not a type: the cast is for it alone.)
_MEASURE: TypeAdapter[Any] = TypeAdapter(cast(Any, AnyMeasureIn))


class MeasureIn(Input):
    """A measure of one of the kinds below, chosen by `kind` (a discriminated union): `phq9`
    {measured_on, items: 9 answers 0-3}, `gad7` {measured_on, items: 7}, `moud`
    {measured_on, adherence, medication, daily_dose_mg}, `urine_drug_screen` {measured_on,
    results: substance to result}. A `total` or `score` is refused: it is computed."""

    kind: MeasureKind
    measured_on: date
    items: list[Item] | None = None
    adherence: rules.Adherence | None = None
    medication: MoudMedication | None = None
    daily_dose_mg: float | None = Field(None, ge=0, le=2000)
    results: dict[Substance, ScreenResult] | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        for sent in ("total", "score"):
            if sent in data:
                raise FieldNamedError(sent, _COMPUTED)
        try:
            chosen = _MEASURE.validate_python(data)
        except ValidationError as exc:
            first = exc.errors(include_url=False)[0]
            loc = [str(p) for p in first["loc"]]
            if len(loc) > 1 and loc[0] == data.get("kind"):
                loc = loc[1:]  # the union's tag
            where = ".".join(loc) or "kind"
            kind = first["type"]
            if kind == "missing":
                message = "is required"
            elif kind == "extra_forbidden":
                message = f"is not a field of a {data.get('kind')} measure"
            elif kind in {"union_tag_invalid", "union_tag_not_found"}:
                where, message = "kind", "must be one of phq9, gad7, moud, urine_drug_screen"
            else:
                message = str(first["msg"]).removeprefix("Value error, ")
            raise FieldNamedError(where, message) from None
        return chosen.model_dump()


class QuestionnaireOut(Output):
    """A questionnaire's answers and their computed total."""

    items: list[int]
    score: int
    severity: Severity


class MeasureOut(Output):
    """A measure as recorded; a questionnaire's score and severity are computed."""

    id: uuid.UUID
    episode_id: uuid.UUID
    kind: MeasureKind
    measured_on: date
    items: list[int] | None
    score: int | None
    severity: Severity | None
    adherence: rules.Adherence | None
    medication: str | None
    daily_dose_mg: float | None
    results: dict[str, str] | None
    recorded_at: UtcDatetime


class ContactIn(Input):
    """A care manager's contact with the patient."""

    contact_on: date
    minutes: int = Field(ge=1, le=600)
    kind: ContactKind
    who: OneLine = Field(min_length=1, max_length=200, description="Who was reached")
    counts: bool = Field(description="Whether it counts toward collaborative care time")


class ContactOut(Output):
    """A contact as recorded."""

    id: uuid.UUID
    episode_id: uuid.UUID
    contact_on: date
    minutes: int
    kind: ContactKind
    who: str
    counts: bool
    recorded_at: UtcDatetime


class HistoryOut(Output):
    """An episode with its measures and contacts, newest first."""

    episode: EpisodeOut
    measures: list[MeasureOut]
    contacts: list[ContactOut]


# --- the caseload --------------------------------------------------------------------------


class RegistryQuery(Input):
    """Which open episodes to list. `spoke_id` is for the hub; a clinic naming another clinic
    gets an empty list (never another clinic's rows)."""

    program: Program | None = None
    flag: rules.Flag | None = None
    consultant_id: Id | None = None
    spoke_id: Id | None = None


class ScoreTrendOut(Output):
    """A questionnaire's first and latest scores."""

    first: int | None
    first_on: date | None
    last: int | None
    last_on: date | None
    change_percent: float | None = Field(description="From first to latest; a fall is negative")
    last_severity: Severity | None


class MoudOut(Output):
    """The latest MOUD adherence measure."""

    medication: str | None
    adherence: rules.Adherence | None
    daily_dose_mg: float | None


class CaseloadRowOut(Output):
    """One open episode on the caseload: identifiers and facts, never a name."""

    episode_id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    program: Program
    care_manager_id: int
    consultant_id: int
    started_on: date
    weeks_in_treatment: int
    last_contact_on: date | None
    phq9: ScoreTrendOut
    gad7: ScoreTrendOut
    last_review_at: UtcDatetime | None
    moud: MoudOut | None
    flags: list[rules.Flag] = Field(description="In order: the first is the most urgent")


class RegistryOut(Output):
    """The caseload, most urgent first."""

    rows: list[CaseloadRowOut]
