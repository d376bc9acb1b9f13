"""What the consents API reads and answers."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from consults.part2 import ConsentKind, NoteCategory
from spokes import consent_rules
from spokes.consent_store import Consent
from telehub.fields import Id, OneLine
from telehub.validation import Input, Output, UtcDatetime


class ConsentIn(Input):
    """A consent the patient signed, as the clinic records it."""

    kind: ConsentKind = Field(
        description="tpo: treatment, payment and health care operations; specific: a named "
        "purpose; counseling_notes: counseling notes (no other consent covers them)"
    )
    recipient_spoke_ids: list[Id] | None = Field(
        None,
        max_length=20,
        description="The network clinics the patient lets receive the records (default: the "
        "patient's own clinic)",
    )
    other_recipients: list[OneLine] = Field(
        default_factory=list,
        max_length=20,
        description="Other organizations the consent names, 1-200 characters each (shown in "
        "its scope; telehub sends only to network clinics)",
    )
    disclose: list[NoteCategory] | None = Field(
        None,
        max_length=5,
        description="The kinds of note it covers (default: every kind but counseling notes; "
        'for counseling_notes exactly ["counseling_note"])',
    )
    purpose: OneLine | None = Field(
        None,
        max_length=500,
        description="The purpose the patient consented to (a tpo consent's default: "
        '"Treatment, payment and health care operations"; required otherwise)',
    )
    signed_on: date = Field(description="The day the patient signed (not after today)")
    expires_on: date | None = Field(None, description="The consent's last day; null: until revoked")


class RevokeIn(Input):
    """The patient's revocation, as the clinic learned of it."""

    revoked_on: date = Field(
        description="The day the patient revoked (not after today, not before signed_on)"
    )
    how: Literal["written", "verbal", "electronic"]


class FormOut(Output):
    """The signed form's description (its bytes: GET the form_url)."""

    content_type: str
    name: str
    size: int


class ConsentOut(Output):
    """A patient's consent with its status on the clinic's today."""

    id: uuid.UUID
    patient_id: uuid.UUID
    spoke_id: int
    kind: str
    recipient_spoke_ids: list[int]
    other_recipients: list[str]
    disclose: list[str]
    purpose: str
    signed_on: date
    expires_on: date | None = Field(description="null: until revoked")
    status: consent_rules.Status
    recorded_by: str
    recorded_at: UtcDatetime
    revoked_on: date | None
    revoked_how: str | None
    revoked_at: UtcDatetime | None
    revoked_by: str | None
    form: FormOut | None = Field(description="The signed form, when uploaded")
    form_url: str


class RecordedOut(ConsentOut):
    """A consent just recorded."""

    released: int = Field(description="How many of the patient's held notes it released")


class RevokedOut(ConsentOut):
    """A consent just revoked."""

    held: int = Field(description="How many of its notes not yet sent are now held")


class ConsentsOut(Output):
    """A patient's consents, newest signed first, and their overall status."""

    status: consent_rules.Overall
    consents: list[ConsentOut]


def consent_out(consent: Consent, today: date) -> dict[str, object]:
    """The fields of ConsentOut for a consent, on the clinic's `today`."""
    form = (
        FormOut(content_type=consent.form_type, name=consent.form_name, size=consent.form_size)
        if consent.form_type is not None
        and consent.form_name is not None
        and consent.form_size is not None
        else None
    )
    return dict(
        id=consent.id,
        patient_id=consent.patient_id,
        spoke_id=consent.spoke_id,
        kind=consent.kind,
        recipient_spoke_ids=consent.recipient_spoke_ids,
        other_recipients=consent.other_recipients,
        disclose=consent.disclose,
        purpose=consent.purpose,
        signed_on=consent.signed_on,
        expires_on=consent.expires_on,
        status=consent_rules.status(consent, today),
        recorded_by=consent.recorded_by,
        recorded_at=consent.recorded_at,
        revoked_on=consent.revoked_on,
        revoked_how=consent.revoked_how,
        revoked_at=consent.revoked_at,
        revoked_by=consent.revoked_by,
        form=form,
        form_url=f"/api/v1/consents/{consent.id}/form",
    )
