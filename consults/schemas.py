"""Request and response models of the consults API."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any, Literal, Self

from pydantic import Field, field_validator, model_validator

from consults.delivery_store import DeliveryState
from consults.webhook_address import check_url
from telehub.fields import Id, Instant, OneLine, Text
from telehub.validation import FieldNamedError, Input, Output, UtcDatetime

MoudMedication = Literal[
    "none",
    "buprenorphine",
    "buprenorphine_naloxone",
    "buprenorphine_extended_release",
    "methadone",
    "naltrexone_extended_release",
    "other",
]
Substance = Literal[
    "fentanyl",
    "opiates",
    "oxycodone",
    "buprenorphine",
    "methadone",
    "cocaine",
    "amphetamines",
    "methamphetamine",
    "benzodiazepines",
    "cannabis",
    "alcohol",
    "xylazine",
]
ScreenResult = Literal["positive", "negative", "not_tested"]
Need = Literal[
    "housing",
    "food",
    "transportation",
    "employment",
    "legal",
    "childcare",
    "insurance",
    "safety",
    "other",
]


class Moud(Input):
    """The patient's current medication for opioid use disorder."""

    medication: MoudMedication
    daily_dose_mg: float | None = Field(None, ge=0, le=2000)
    since: date | None = None


class UrineDrugScreen(Input):
    """The latest urine drug screen."""

    collected_on: date | None = None
    results: dict[Substance, ScreenResult] = Field(default_factory=dict)


class Pain(Input):
    """Pain, which shapes MOUD choices."""

    present: bool
    score: int | None = Field(None, ge=0, le=10)
    notes: Text = Field("", max_length=1000)


class ClinicalContext(Input):
    """The structured picture a consultant needs for OUD and co-occurring care."""

    current_moud: Moud | None = None
    phq9: int | None = Field(None, ge=0, le=27, description="PHQ-9 depression score")
    gad7: int | None = Field(None, ge=0, le=21, description="GAD-7 anxiety score")
    co_occurring_diagnoses: list[OneLine] = Field(default_factory=list, max_length=20)
    urine_drug_screen: UrineDrugScreen | None = None
    pain: Pain | None = None
    psychosocial_needs: list[Need] = Field(default_factory=list)
    family_involvement: Text = Field("", max_length=1000)
    other: Text = Field("", max_length=4000)

    @field_validator("co_occurring_diagnoses")
    @classmethod
    def _short(cls, values: list[str]) -> list[str]:
        if any(not 1 <= len(v) <= 200 for v in values):
            raise ValueError("each diagnosis is 1 to 200 characters")
        return values


class Holiday(Input):
    """A local date the hub is closed: the e-consult clock does not run."""

    day: date
    name: OneLine = Field(min_length=1, max_length=100)


class HolidaysIn(Input):
    """The hub's holidays (replaces the list)."""

    holidays: list[Holiday] = Field(max_length=400)

    @field_validator("holidays")
    @classmethod
    def _unique(cls, values: list[Holiday]) -> list[Holiday]:
        days = [h.day for h in values]
        if len(set(days)) != len(days):
            raise ValueError("each date once")
        return values


class HolidayOut(Output):
    """A local date the hub is closed."""

    day: date
    name: str


class HolidaysOut(Output):
    """The hub's holidays, by date."""

    holidays: list[HolidayOut]


class ReviewSlot(Input):
    """A consultant's e-consult review slot to book for this question."""

    consultant_id: Id
    start: Instant


class EconsultIn(Input):
    """A clinic's question to the hub about one of its patients."""

    patient_id: uuid.UUID
    service_id: Id = Field(description="An e-consult service")
    referring_clinician: OneLine = Field(min_length=1, max_length=200)
    question: Text = Field(min_length=1, max_length=10000)
    clinical_context: ClinicalContext = Field(default_factory=ClinicalContext)
    urgency: Literal["routine", "urgent"] = "routine"
    review: ReviewSlot | None = Field(
        None, description="Book a review slot; without one the e-consult is queued"
    )


EconsultStatus = Literal[
    "submitted", "assigned", "awaiting_clinic", "answered", "closed", "cancelled"
]


class EconsultOut(Output):
    """An e-consult and where it stands."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    service_id: int
    referring_clinician: str
    question: str
    clinical_context: dict[str, Any]
    urgency: Literal["routine", "urgent"]
    status: EconsultStatus
    consultant_id: int | None
    booking_id: uuid.UUID | None
    submitted_at: UtcDatetime
    due_at: UtcDatetime = Field(description="Moves later while the clock is paused")
    paused_at: UtcDatetime | None
    answered_at: UtcDatetime | None
    closed_at: UtcDatetime | None
    visit_booking_id: uuid.UUID | None = Field(description="The visit booked on its advice")


class EconsultsOut(Output):
    """E-consults, soonest due first."""

    econsults: list[EconsultOut]


class EconsultQuery(Input):
    """Filters for the e-consult list (the hub's worklist)."""

    status: EconsultStatus | None = None
    overdue: bool = False
    limit: int = Field(100, ge=1, le=500)


class AssignIn(Input):
    """Assign a consultant; without one, the least-loaded eligible consultant."""

    consultant_id: Id | None = None


class MessageIn(Input):
    """A message in the clarification thread."""

    body: Text = Field(min_length=1, max_length=10000)
    asks_clinic: bool = Field(
        False, description="A hub question that waits on the clinic: pauses the clock"
    )


class MessageOut(Output):
    """A message in the clarification thread."""

    id: int
    side: Literal["hub", "spoke"]
    author: str
    body: str
    asks_clinic: bool
    created_at: UtcDatetime


class MessagesOut(Output):
    """The clarification thread, oldest first."""

    messages: list[MessageOut]


class Recommendations(Input):
    """What the consultant recommends."""

    medications: Text = Field("", max_length=4000, description="Including MOUD start or change")
    moud: Text = Field("", max_length=4000)
    therapy: Text = Field("", max_length=4000)
    referrals: Text = Field("", max_length=4000)


class NoteSections(Input):
    """The sections of a consult note; a draft may leave some empty."""

    assessment: Text = Field("", max_length=20000)
    recommendations: Recommendations = Field(default_factory=Recommendations)
    follow_up: Text = Field("", max_length=4000)
    visit_recommended: bool = False


class NoteIn(Input):
    """A consult note draft."""

    sections: NoteSections
    kind: Literal["consult", "counseling"] | None = Field(
        None,
        description="counseling: counseling notes (a session's or a group session's note "
        "only), disclosed only under a counseling_notes consent. Omitted: a new note is a "
        "consult note, an amendment or an edited draft keeps its kind",
    )


class SecurityLabelOut(Output):
    """A security label (a FHIR Coding): system, code, display."""

    system: str
    code: str
    display: str


class ConsentRecipientOut(Output):
    """A recipient a consent names: a network clinic (spoke_id), or a named organization."""

    spoke_id: int | None
    name: str


class ConsentScopeOut(Output):
    """The scope of the consent a note is disclosed under (42 CFR 2.32)."""

    id: uuid.UUID
    kind: Literal["tpo", "specific", "counseling_notes"]
    kind_words: str
    recipients: list[ConsentRecipientOut]
    covers: list[str]
    covers_words: list[str]
    purpose: str
    signed_on: date
    expires_on: date | None
    expiry: str = Field(description="The expiry date, or 'until revoked'")


class Part2Out(Output):
    """What every disclosed note carries: the notice, the consent's scope, the labels."""

    notice: str
    consent: ConsentScopeOut
    security_labels: list[SecurityLabelOut]


class NoteOut(Output):
    """A version of a consult note."""

    id: uuid.UUID
    econsult_id: uuid.UUID | None
    booking_id: uuid.UUID | None
    group_seat_id: uuid.UUID | None
    recommendation_id: uuid.UUID | None
    spoke_id: int
    patient_id: uuid.UUID
    consultant_id: int
    version: int
    kind: Literal["consult", "counseling"]
    status: Literal["draft", "signed", "held"] = Field(
        description="held: signed, but waiting for the patient's consent (42 CFR part 2); "
        "the clinic gets no sections until a consent covers it"
    )
    sections: dict[str, Any] | None = Field(description="null while the note is held")
    waiting_for: str | None = Field(
        None, description="For a held note: the consent that is missing, in words"
    )
    part2: Part2Out | None = Field(
        None,
        description="For a note disclosed to a clinic: the Part 2 notice, the scope of the "
        "consent it is disclosed under, and the security labels (HL7 DS4P)",
    )
    created_at: UtcDatetime
    updated_at: UtcDatetime
    signed_at: UtcDatetime | None
    acknowledged_at: UtcDatetime | None


class NotesOut(Output):
    """Consult notes."""

    notes: list[NoteOut]


class NoteQuery(Input):
    """Filters for the notes inbox."""

    acknowledged: bool | None = None
    limit: int = Field(100, ge=1, le=500)


class VisitIn(Input):
    """Book the video session an e-consult recommended, for the same patient, in one step."""

    service_id: Id
    consultant_id: Id
    start: Instant


class WebhookIn(Input):
    """Where the clinic takes pushed notes."""

    url: str | None = Field(
        None,
        max_length=2000,
        description="https to a public address (loopback and http only on a test server)",
    )
    full_payload: bool = Field(
        False, description="Send the note itself, not only identifiers and links"
    )
    rotate_secret: bool = False

    @field_validator("url")
    @classmethod
    def _url(cls, value: str | None) -> str | None:
        if value is not None:
            # Its form here; where it points is checked with the server's setting when saved.
            check_url(value, allow_private=True)
        return value


class WebhookOut(Output):
    """A clinic's webhook; the secret is shown only when it is issued."""

    spoke_id: int
    url: str | None
    full_payload: bool
    secret: str | None = Field(None, description="Shown once, when issued or rotated")
    disabled_at: UtcDatetime | None
    disabled_reason: str | None


class DeliveryOut(Output):
    """An event on its way to a clinic."""

    id: int
    webhook_id: str
    spoke_id: int
    event_type: str
    state: DeliveryState = Field(
        description="held: a note waiting for the patient's consent (42 CFR part 2): kept, "
        "never sent, released when a consent that covers it is recorded"
    )
    attempts: int
    created_at: UtcDatetime
    next_attempt_at: UtcDatetime
    delivered_at: UtcDatetime | None
    failed_at: UtcDatetime | None
    last_status: int | None
    last_error: str | None
    held_at: UtcDatetime | None = None
    held_reason: str | None = Field(None, description="For a held event: what is missing")


class DeliveriesOut(Output):
    """Deliveries, newest first."""

    deliveries: list[DeliveryOut]


class DeliveryQuery(Input):
    """Filters for deliveries."""

    state: DeliveryState | None = None
    spoke_id: Id | None = None
    limit: int = Field(100, ge=1, le=500)


class MeasuresQuery(Input):
    """The period whose e-consults and notes are measured."""

    start: Instant
    end: Instant

    @model_validator(mode="after")
    def _window(self) -> Self:
        if self.end <= self.start:
            raise FieldNamedError("end", "must be after start")
        if self.end - self.start > timedelta(days=366):
            raise FieldNamedError("end", "must be at most 366 days after start")
        return self


class MeasureOut(Output):
    """The loop's health for one spoke, one consultant, or the program."""

    key: int
    name: str
    econsults: int
    answered: int
    turnaround_median_hours: float | None
    turnaround_p90_hours: float | None
    overdue: int
    notes_signed: int
    acknowledged: int
    loop_closure_median_hours: float | None
    loop_closure_p90_hours: float | None
    unacknowledged: int
    oldest_unacknowledged_at: UtcDatetime | None
    held: int = Field(
        description="Signed notes waiting for the patient's consent (not unacknowledged)"
    )
    oldest_held_at: UtcDatetime | None


class MeasuresOut(Output):
    """Program measures: turnaround, loop closure, overdue, unacknowledged and held work."""

    overall: MeasureOut
    by_spoke: list[MeasureOut]
    by_consultant: list[MeasureOut]


class DisclosureQuery(Input):
    """The accounting's window: from `since` (a date in the clinic's zone; at most 3 years
    back, the default)."""

    since: date | None = None


class DisclosureConsentOut(Output):
    """The consent a disclosure went under."""

    id: uuid.UUID
    kind: Literal["tpo", "specific", "counseling_notes"]


class DisclosureOut(Output):
    """One disclosure of a Part 2 record: what, to whom, how, under which consent, when, by
    whom."""

    note_id: uuid.UUID
    note_version: int
    recipient_spoke_id: int
    recipient: str = Field(description="The clinic's name")
    channel: Literal["webhook", "api", "page", "print", "export", "fhir"]
    consent: DisclosureConsentOut
    disclosed_at: UtcDatetime
    disclosed_by: str = Field(description="The actor: user:<id>, client:<id> or webhook:<id>")
    disclosed_by_name: str | None = Field(description="The person's name, when a person")


class DisclosuresOut(Output):
    """A patient's accounting of disclosures, newest first."""

    patient_id: uuid.UUID
    since: date = Field(description="The first day covered, in the clinic's zone")
    clipped: bool = Field(
        description="true when the asked `since` was more than 3 years back and was clipped"
    )
    disclosures: list[DisclosureOut]
