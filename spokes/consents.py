"""A patient's Part 2 consents: recorded, read and revoked by the patient's clinic or the hub.

Every read and change is audited (record type "consent"); another clinic's patient or consent
answers like a missing one. Recording a consent releases the patient's held notes it covers,
and a revocation withholds what has not yet gone, in the same transaction
(`consults.disclosure`). Nothing is ever deleted: a revoked consent stays, with what was
disclosed under it.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import PurePosixPath, PureWindowsPath
from typing import Final, get_args
from zoneinfo import ZoneInfo

import asyncpg

from consults import disclosure
from consults.part2 import NOTE_CATEGORIES, ConsentKind, NoteCategory
from spokes import consent_rules, consent_store
from spokes import store as spokes_store
from spokes.consent_store import Consent, Form
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import (
    Conflict,
    FieldError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    ValidationFailed,
)
from telehub.fields import ONE_LINE_PATTERN

TPO_PURPOSE: Final = "Treatment, payment and health care operations"
MAX_FORM_BYTES: Final = 5 * 1024 * 1024  # the consents.form column's own limit
MAX_RECIPIENTS: Final = 20
MAX_NAME_CHARS: Final = 200
MAX_PURPOSE_CHARS: Final = 500
REVOKED_HOW: Final = ("written", "verbal", "electronic")
# What a signed form may be, and how its first bytes say so.
FORM_TYPES: Final[dict[str, tuple[bytes, ...]]] = {
    "application/pdf": (b"%PDF-",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
}
_SUFFIX: Final = {"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg"}
_KINDS: Final[tuple[str, ...]] = get_args(ConsentKind)


@dataclass(frozen=True, slots=True)
class Recorded:
    """A consent just recorded, and how many held notes it released."""

    consent: Consent
    released: int


@dataclass(frozen=True, slots=True)
class Revoked:
    """A consent just revoked, and how many of its unsent notes are now held."""

    consent: Consent
    held: int


@dataclass(frozen=True, slots=True)
class ConsentStatus:
    """One consent with its status on the clinic's today."""

    consent: Consent
    status: consent_rules.Status
    days_left: int | None  # an expiring consent's days to its last day


@dataclass(frozen=True, slots=True)
class ConsentSummary:
    """A patient's consents as the pages show them."""

    patient_id: uuid.UUID
    spoke_id: int
    status: consent_rules.Overall
    consents: list[ConsentStatus]  # newest signed first
    # The consent in force that lets the patient's own clinic receive its notes (newest
    # signed), and the kinds of note no consent in force lets it receive.
    covering: Consent | None
    not_covered: list[NoteCategory]


async def _patient(
    conn: asyncpg.Connection, caller: Caller, patient_id: uuid.UUID
) -> spokes_store.Patient:
    """The patient, if the caller is their clinic or the hub; another clinic's: NotFound."""
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("consents are kept by the patient's clinic and the hub")
    patient = await spokes_store.get_patient(conn, caller.spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    return patient


def _mine(caller: Caller, consent: Consent | None) -> Consent:
    if caller.spoke_id is None and not caller.is_hub_admin:
        raise Forbidden("consents are kept by the patient's clinic and the hub")
    if consent is None or (caller.spoke_id is not None and consent.spoke_id != caller.spoke_id):
        raise NotFound("no such consent")
    return consent


async def clinic_today(conn: asyncpg.Connection, spoke_id: int, now: datetime) -> date:
    """The date at the clinic now: a consent's dates are the clinic's."""
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    assert spoke is not None  # patients and consents reference their spoke
    return now.astimezone(spoke.zone).date()


async def patient_today(
    conn: asyncpg.Connection, caller: Caller, patient_id: uuid.UUID, now: datetime
) -> date:
    """The date now at the patient's clinic (another clinic's patient: NotFound)."""
    patient = await _patient(conn, caller, patient_id)
    return await clinic_today(conn, patient.spoke_id, now)


def _refused(errors: list[FieldError]) -> ValidationFailed:
    summary = "; ".join(f"{e.field}: {e.detail}" for e in errors[:5])
    return ValidationFailed(summary, errors=errors)


_ONE_LINE: Final = re.compile(ONE_LINE_PATTERN)


def _one_line(text: str) -> bool:
    return _ONE_LINE.fullmatch(text) is not None


async def _recipients(
    conn: asyncpg.Connection, given: Sequence[int] | None, own: int, errors: list[FieldError]
) -> list[int]:
    ids = list(dict.fromkeys(given)) if given else [own]
    if len(ids) > MAX_RECIPIENTS:
        errors.append(FieldError("recipient_spoke_ids", f"name at most {MAX_RECIPIENTS} clinics"))
        return ids
    known = {r["id"] for r in await conn.fetch("SELECT id FROM spokes WHERE id = ANY ($1)", ids)}
    for i, spoke_id in enumerate(given or []):
        if spoke_id not in known:
            errors.append(FieldError(f"recipient_spoke_ids.{i}", "is not a clinic of the network"))
    return ids


def _others(given: Sequence[str], errors: list[FieldError]) -> list[str]:
    names = [name.strip() for name in given]
    if len(names) > MAX_RECIPIENTS:
        errors.append(
            FieldError("other_recipients", f"name at most {MAX_RECIPIENTS} organizations")
        )
    for i, name in enumerate(names):
        if not 1 <= len(name) <= MAX_NAME_CHARS:
            errors.append(
                FieldError(
                    f"other_recipients.{i}",
                    f"must name the organization in 1 to {MAX_NAME_CHARS} characters",
                )
            )
        elif not _one_line(name):
            errors.append(FieldError(f"other_recipients.{i}", "must be one line of text"))
    return list(dict.fromkeys(names))


def _disclose(kind: str, given: Sequence[str] | None, errors: list[FieldError]) -> list[str]:
    if not given:
        if kind == "counseling_notes":
            return ["counseling_note"]
        return [c for c in NOTE_CATEGORIES if c != "counseling_note"]
    chosen = list(dict.fromkeys(given))
    for i, category in enumerate(chosen):
        if category not in NOTE_CATEGORIES:
            errors.append(FieldError(f"disclose.{i}", "is not a kind of note"))
    if kind == "counseling_notes" and chosen != ["counseling_note"]:
        errors.append(
            FieldError("disclose", "a counseling notes consent covers counseling notes only")
        )
    elif kind != "counseling_notes" and "counseling_note" in chosen:
        errors.append(FieldError("disclose", "counseling notes need their own consent"))
    return chosen


def _purpose(kind: str, given: str | None, errors: list[FieldError]) -> str:
    text = (given or "").strip()
    if not text:
        if kind == "tpo":
            return TPO_PURPOSE
        errors.append(FieldError("purpose", "is required: the purpose the patient consented to"))
    elif len(text) > MAX_PURPOSE_CHARS:
        errors.append(FieldError("purpose", f"must be at most {MAX_PURPOSE_CHARS} characters"))
    elif not _one_line(text):
        errors.append(FieldError("purpose", "must be one line of text"))
    return text


async def record(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    *,
    kind: str,
    signed_on: date,
    expires_on: date | None,
    recipient_spoke_ids: Sequence[int] | None = None,
    other_recipients: Sequence[str] = (),
    disclose: Sequence[str] | None = None,
    purpose: str | None = None,
    base_url: str,
    now: datetime,
) -> Recorded:
    """Record a consent the patient signed, in the caller's transaction, and release the
    patient's held notes it covers (in signing order, each once).

    Defaults: recipients, the patient's clinic; what it covers, every kind of note but
    counseling notes (a counseling notes consent: counseling notes only); the purpose of a
    tpo consent, treatment, payment and health care operations. Every refusal names its field
    and stores nothing.
    """
    patient = await _patient(conn, caller, patient_id)
    errors: list[FieldError] = []
    if kind not in _KINDS:
        raise _refused([FieldError("kind", f"must be one of {', '.join(_KINDS)}")])
    recipients = await _recipients(conn, recipient_spoke_ids, patient.spoke_id, errors)
    others = _others(other_recipients, errors)
    categories = _disclose(kind, disclose, errors)
    why = _purpose(kind, purpose, errors)
    today = await clinic_today(conn, patient.spoke_id, now)
    if signed_on > today:
        errors.append(FieldError("signed_on", "must not be after today at the clinic"))
    if expires_on is not None and expires_on < signed_on:
        errors.append(FieldError("expires_on", "must not be before signed_on"))
    if errors:
        raise _refused(errors)
    consent = await consent_store.insert(
        conn,
        spoke_id=patient.spoke_id,
        patient_id=patient.id,
        kind=kind,
        recipient_spoke_ids=recipients,
        other_recipients=others,
        disclose=categories,
        purpose=why,
        signed_on=signed_on,
        expires_on=expires_on,
        recorded_by=trail.actor,
        recorded_at=now,
    )
    await audit.record(conn, trail, "create", "consent", [consent.id], patient.spoke_id)
    released = await disclosure.release_held(
        conn, spoke_id=patient.spoke_id, patient_id=patient.id, base_url=base_url, now=now
    )
    return Recorded(consent, released)


async def revoke(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    consent_id: uuid.UUID,
    *,
    revoked_on: date,
    how: str,
    base_url: str,
    now: datetime,
) -> Revoked:
    """Record the patient's revocation: from its commit nothing more is sent under the
    consent (what was not yet sent goes under another consent in force, or is held).
    Conflict if it was revoked already. What was disclosed stays disclosed."""
    consent = _mine(caller, await consent_store.get_for_update(conn, consent_id))
    if consent.revoked_at is not None:
        assert consent.revoked_on is not None
        raise Conflict(
            f"this consent was revoked already, on {consent.revoked_on.isoformat()}",
            errors=[FieldError("consent", "is revoked already")],
        )
    errors: list[FieldError] = []
    if how not in REVOKED_HOW:
        errors.append(FieldError("how", f"must be one of {', '.join(REVOKED_HOW)}"))
    today = await clinic_today(conn, consent.spoke_id, now)
    if revoked_on > today:
        errors.append(FieldError("revoked_on", "must not be after today at the clinic"))
    elif revoked_on < consent.signed_on:
        errors.append(FieldError("revoked_on", "must not be before the consent was signed"))
    if errors:
        raise _refused(errors)
    revoked = await consent_store.mark_revoked(
        conn, consent.id, revoked_on=revoked_on, how=how, revoked_at=now, revoked_by=trail.actor
    )
    assert revoked is not None  # locked above, and not revoked
    await audit.record(conn, trail, "update", "consent", [consent.id], consent.spoke_id)
    held = await disclosure.withhold_for(conn, consent.id, base_url=base_url, now=now)
    return Revoked(revoked, held)


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, consent_id: uuid.UUID
) -> Consent:
    """One consent of the caller's clinic (or any, for the hub)."""
    consent = _mine(caller, await consent_store.get(conn, consent_id))
    await audit.record(conn, trail, "read", "consent", [consent.id], consent.spoke_id)
    return consent


async def of_patient(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> list[Consent]:
    """The patient's consents, newest signed first."""
    patient = await _patient(conn, caller, patient_id)
    found = await consent_store.of_patient(conn, patient.id)
    await audit.record(conn, trail, "read", "consent", [c.id for c in found], patient.spoke_id)
    return found


async def summary(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, today: date
) -> ConsentSummary:
    """The patient's consent status on the clinic's `today`, each consent with its status,
    and what the patient's own clinic may receive."""
    patient = await _patient(conn, caller, patient_id)
    found = await consent_store.of_patient(conn, patient.id)
    await audit.record(conn, trail, "read", "consent", [c.id for c in found], patient.spoke_id)
    spoke = await spokes_store.get_spoke(conn, patient.spoke_id)
    assert spoke is not None
    # Midday at the clinic: coverage on a clinic's date is the same at any hour of it.
    at = datetime.combine(today, time(12), ZoneInfo(spoke.timezone))
    covering: Consent | None = None
    not_covered: list[NoteCategory] = []
    for category in NOTE_CATEGORIES:
        found_one = await consent_store.covering(
            conn,
            patient_id=patient.id,
            recipient_spoke_id=patient.spoke_id,
            category=category,
            at=at,
        )
        if found_one is None:
            not_covered.append(category)
        elif covering is None and category != "counseling_note":
            covering = found_one
    return ConsentSummary(
        patient_id=patient.id,
        spoke_id=patient.spoke_id,
        status=consent_rules.overall(found, today),
        consents=[
            ConsentStatus(c, consent_rules.status(c, today), consent_rules.days_left(c, today))
            for c in found
        ],
        covering=covering,
        not_covered=not_covered,
    )


def _filename(given: str | None, content_type: str) -> str:
    """The uploaded file's own name, without any folders and within the column's limit."""
    base = PureWindowsPath(PurePosixPath(given or "").name).name.strip()
    base = "".join(ch for ch in base if _one_line(ch))
    if not base:
        base = "signed-consent" + _SUFFIX[content_type]
    if len(base) > MAX_NAME_CHARS:
        _, dot, suffix = base.rpartition(".")
        keep = suffix if dot and len(suffix) <= 10 else ""
        base = base[: MAX_NAME_CHARS - len(keep) - 1] + ("." + keep if keep else "")
        base = base[:MAX_NAME_CHARS]
    return base


def check_form(content_type: str, data: bytes) -> None:
    """Refuse a signed form that is too big (413), empty, of another type, or whose bytes are
    not what its type says (422); each names the field `form`."""
    if len(data) > MAX_FORM_BYTES:
        raise too_large()
    kind = content_type.split(";", 1)[0].strip().lower()
    if kind not in FORM_TYPES:
        raise wrong_type()
    if not data:
        raise _refused([FieldError("form", "is empty")])
    if not data.startswith(FORM_TYPES[kind]):
        raise _refused(
            [FieldError("form", f"is not a {_SUFFIX[kind][1:].upper()} file: its content differs")]
        )


def wrong_type() -> ValidationFailed:
    """The refusal of a signed form that is not a PDF, PNG or JPEG file."""
    return _refused([FieldError("form", "must be a PDF, PNG or JPEG file")])


def too_large() -> PayloadTooLarge:
    """The refusal of a signed form over MAX_FORM_BYTES."""
    return PayloadTooLarge(
        "the signed form is larger than 5 MB",
        errors=[FieldError("form", "must be at most 5 MB")],
    )


async def attach_form(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    consent_id: uuid.UUID,
    *,
    content_type: str,
    filename: str | None,
    data: bytes,
) -> Consent:
    """Keep the consent's signed form (PDF, PNG or JPEG, at most 5 MB) in PostgreSQL.

    A consent has one signed form: a second upload is a Conflict (the first is never lost).
    """
    consent = _mine(caller, await consent_store.get_for_update(conn, consent_id))
    check_form(content_type, data)
    if consent.form_type is not None:
        raise Conflict(
            "this consent has its signed form already",
            errors=[FieldError("form", "is attached already")],
        )
    kind = content_type.split(";", 1)[0].strip().lower()
    stored = await consent_store.store_form(
        conn, consent.id, content_type=kind, filename=_filename(filename, kind), data=data
    )
    assert stored is not None
    await audit.record(conn, trail, "update", "consent", [consent.id], consent.spoke_id)
    return stored


async def form(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, consent_id: uuid.UUID
) -> Form:
    """The consent's signed form, for the patient's clinic and the hub only."""
    consent = _mine(caller, await consent_store.get(conn, consent_id))
    found = await consent_store.form_of(conn, consent.id)
    if found is None:
        raise NotFound("no signed form was uploaded for this consent")
    await audit.record(conn, trail, "read", "consent", [consent.id], consent.spoke_id)
    return found
