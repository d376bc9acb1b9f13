"""Request and response models of systematic case review: the agenda and recommendations."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field, field_validator

from telehub.fields import Text
from telehub.validation import Input, Output, UtcDatetime

Choice = Literal["no_change", "adjust_medication", "add_psychotherapy", "refer", "step_up_care"]


class RecommendationIn(Input):
    """The consultant's recommendation for one patient of the review."""

    choice: Choice = Field(description="What the consultant recommends, structured")
    text: Text = Field(min_length=1, max_length=4000, description="In the consultant's words")

    @field_validator("text")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must say what is recommended")
        return value


class RecommendationOut(Output):
    """A recommendation from a case review, and the consult note that carried it."""

    id: uuid.UUID
    booking_id: uuid.UUID
    episode_id: uuid.UUID
    spoke_id: int
    consultant_id: int
    choice: Choice
    text: str
    recorded_at: UtcDatetime
    note_id: uuid.UUID | None = Field(description="Its newest signed consult note version")


class ScoreOut(Output):
    """A questionnaire's total on one day."""

    measured_on: date
    score: int


class TrendOut(Output):
    """The patient's scores over the episode, oldest first."""

    phq9: list[ScoreOut]
    gad7: list[ScoreOut]


class MoudOut(Output):
    """The patient's current medication for opioid use disorder, as last recorded."""

    medication: str
    adherence: str | None
    daily_dose_mg: float | None


class AgendaItemOut(Output):
    """One patient to discuss, with why (flags) and what has happened so far."""

    episode_id: uuid.UUID
    patient_id: uuid.UUID
    program: str
    started_on: date
    weeks: int
    flags: list[str]
    last_contact_on: date | None
    first_phq9: ScoreOut | None
    last_phq9: ScoreOut | None
    phq9_change: float | None = Field(description="Percent from the first; a fall is negative")
    first_gad7: ScoreOut | None
    last_gad7: ScoreOut | None
    gad7_change: float | None
    last_review_at: UtcDatetime | None
    moud: MoudOut | None
    trend: TrendOut
    last_recommendation: RecommendationOut | None
    recommended_in_this_review: bool


class AgendaOut(Output):
    """A case review's agenda: the clinic's flagged patients, most urgent first."""

    booking_id: uuid.UUID
    spoke_id: int
    spoke_name: str
    consultant_id: int
    start: UtcDatetime
    end: UtcDatetime
    status: str
    items: list[AgendaItemOut]
    recorded: list[RecommendationOut] = Field(
        description="The recommendations already made in this review"
    )
