"""A patient's care as the clinic reads it, and the clinic's list of bookings: read models.

`patient_care` gathers one patient's record (bookings, e-consults, signed consult notes), for
the API and the patient page alike; `clinic_bookings` is one page of the clinic's bookings under
a filter. Every record read is audited, and both stay within the caller's clinic.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Literal

import asyncpg

from care import store as registry_store
from care.store import Episode
from consults import accounting, disclosure, note_store
from consults import notes as consult_notes
from consults.accounting import Accounting
from consults.disclosure import Channel, HeldNote
from consults.note_store import Note, Subject
from consults.store import Econsult
from scheduling import bookings, series
from scheduling import store as scheduling_store
from scheduling.booking_store import Booking
from scheduling.bookings import BookingFilter
from scheduling.series import Series
from scheduling.store import Service
from spokes import care_store, consents, group_views, patients
from spokes import store as spokes_store
from spokes.consent_store import Consent
from spokes.consents import ConsentStatus
from spokes.group_views import PatientGroup
from spokes.overview import clinic_of, consultant_names, service_names
from spokes.store import Patient, Spoke
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import FieldError, ValidationFailed
from telehub.web import utc_text

_BATCH = 500  # bookings read per round while gathering a patient's record


@dataclass(frozen=True, slots=True)
class Care:
    """One patient's record: every booking, course of sessions, e-consult and signed consult
    note, newest first."""

    spoke: Spoke
    patient: Patient
    bookings: list[Booking]  # latest start first
    series: list[Series]  # newest first; their sessions are among `bookings` too
    econsults: list[Econsult]
    notes: list[Note]  # every signed version, newest signature first
    now: datetime
    services: dict[int, str]
    consultants: dict[int, str]
    groups: list[PatientGroup] = field(default_factory=list)  # in, withdrawn from, waiting for
    episodes: list[Episode] = field(default_factory=list)  # of care (the registry), open first

    @property
    def upcoming(self) -> list[Booking]:
        """Sessions still to come (cancelled ones included), soonest first."""
        return [b for b in reversed(self.bookings) if b.start >= self.now]

    @property
    def past(self) -> list[Booking]:
        """Sessions that have begun, with their outcome, newest first."""
        return [b for b in self.bookings if b.start < self.now]

    @property
    def latest_notes(self) -> list[Note]:
        """The latest signed version of each note, newest first (earlier versions behind it)."""
        seen: set[Subject] = set()
        latest = []
        for note in sorted(self.notes, key=lambda n: n.version, reverse=True):
            subject = Subject.of(note)
            if subject not in seen:
                seen.add(subject)
                latest.append(note)
        return sorted(latest, key=lambda n: n.signed_at or n.created_at, reverse=True)


Outcome = Literal["completed", "no_show", "not_recorded"]


def outcome(booking: Booking, now: datetime) -> Outcome | None:
    """How a session went: completed, no-show, or not recorded once it began (None: to come,
    or cancelled)."""
    if booking.status == "completed":
        return "completed"
    if booking.status == "no_show":
        return "no_show"
    if booking.status == "booked" and booking.start < now:
        return "not_recorded"
    return None


async def _all_bookings_of(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> list[Booking]:
    found: list[Booking] = []
    after: tuple[datetime, uuid.UUID] | None = None
    while True:
        batch = await bookings.find(
            conn, caller, trail, BookingFilter(patient_id=patient_id, after=after, limit=_BATCH)
        )
        found += batch
        if len(batch) < _BATCH:
            return found
        after = (batch[-1].start, batch[-1].id)


async def patient_care(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    now: datetime,
    *,
    channel: Channel | None = None,
) -> Care:
    """One of the caller's patients with their record (another clinic's answers NotFound).

    Its consult notes are shown under Part 2 as `consults.notes` shows them: with a
    `channel` ("api") each permitted body is disclosed and accounted for, a held one never;
    without (the patient page, which links to each note) none carries its body."""
    patient = await patients.get(conn, caller, trail, patient_id)
    spoke = await clinic_of(conn, caller)
    held = await _all_bookings_of(conn, caller, trail, patient.id)
    courses = await series.for_patient(conn, caller, trail, patient.id)
    econsults = await care_store.econsults_of(conn, spoke.id, patient.id)
    notes = await note_store.signed_for_patient(conn, spoke.id, patient.id)
    await audit.record(conn, trail, "read", "econsult", [e.id for e in econsults], spoke.id)
    await audit.record(conn, trail, "read", "consult_note", [n.id for n in notes], spoke.id)
    notes = await consult_notes.as_shown(conn, caller, trail, notes, channel=channel, now=now)
    return Care(
        spoke=spoke,
        patient=patient,
        bookings=sorted(held, key=lambda b: (b.start, b.id), reverse=True),
        series=courses,
        econsults=econsults,
        notes=notes,
        now=now,
        services=await service_names(conn),
        consultants=await consultant_names(conn),
        groups=await group_views.patient_groups(conn, caller, trail, patient.id, now),
        episodes=await _episodes_of(conn, trail, patient),
    )


async def _episodes_of(conn: asyncpg.Connection, trail: Trail, patient: Patient) -> list[Episode]:
    """The patient's episodes of care, open ones first, then by start, newest first (audited).

    Read from the registry's store rather than `care.registry.episodes_of_patient`, which
    audits the patient again: the record has read the patient once already."""
    found = await registry_store.episodes_of_patient(conn, patient.id, patient.spoke_id)
    await audit.record(conn, trail, "read", "episode", [e.id for e in found], patient.spoke_id)
    return sorted(found, key=lambda e: (not e.is_open, -e.started_on.toordinal()))


# The clinic's bookings list.

PAGE_SIZE = 25


@dataclass(frozen=True, slots=True)
class BookingsWanted:
    """Which of the clinic's bookings to list: dates are days in the clinic's time zone."""

    patient_id: uuid.UUID | None = None
    consultant_id: int | None = None
    service_id: int | None = None
    status: str | None = None
    from_date: date | None = None
    to_date: date | None = None
    after: str | None = None  # the cursor of the page before


@dataclass(frozen=True, slots=True)
class BookingsPage:
    """One page of the clinic's bookings, by start time, with the names they refer to."""

    spoke: Spoke
    bookings: list[Booking]
    next_after: str | None  # the cursor of the next page (None: this is the last)
    patients: dict[uuid.UUID, Patient]
    services: dict[int, str]
    consultants: dict[int, str]


@dataclass(frozen=True, slots=True)
class BookingChoices:
    """What the bookings list can be filtered by: the clinic's patients, services, consultants."""

    spoke: Spoke
    patients: list[Patient]
    services: list[Service]
    consultants: dict[int, str]


def cursor(booking: Booking) -> str:
    """Where the next page starts: after this booking (its start and id)."""
    return f"{utc_text(booking.start)}~{booking.id}"


def _after(text: str) -> tuple[datetime, uuid.UUID]:
    start, _, booking_id = text.partition("~")
    try:
        after = datetime.fromisoformat(start)
        if after.tzinfo is None or not 1900 <= after.year <= 2200:
            raise ValueError("out of range")
        return after, uuid.UUID(booking_id)
    except ValueError:
        raise ValidationFailed(
            "after: not a page of this list",
            errors=[FieldError("after", "is not a page of this list: start again from the first")],
        ) from None


async def booking_choices(conn: asyncpg.Connection, caller: Caller, trail: Trail) -> BookingChoices:
    """The clinic's patients (their reads audited), the services and the consultants."""
    return BookingChoices(
        spoke=await clinic_of(conn, caller),
        patients=await patients.find(conn, caller, trail, mrn=None, limit=500),
        services=await scheduling_store.list_services(conn),
        consultants=await consultant_names(conn),
    )


async def clinic_bookings(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, wanted: BookingsWanted
) -> BookingsPage:
    """One page of the clinic's bookings matching `wanted`, by start time, each read audited."""
    spoke = await clinic_of(conn, caller)
    zone = spoke.zone
    start = (
        datetime.combine(wanted.from_date, time(0), zone) if wanted.from_date is not None else None
    )
    end = (
        datetime.combine(wanted.to_date + timedelta(days=1), time(0), zone)
        if wanted.to_date is not None
        else None
    )
    found = await bookings.find(
        conn,
        caller,
        trail,
        BookingFilter(
            start=start,
            end=end,
            status=wanted.status,
            patient_id=wanted.patient_id,
            consultant_id=wanted.consultant_id,
            service_id=wanted.service_id,
            after=_after(wanted.after) if wanted.after else None,
            limit=PAGE_SIZE + 1,
        ),
    )
    shown = found[:PAGE_SIZE]
    ids = list({b.patient_id for b in shown})
    return BookingsPage(
        spoke=spoke,
        bookings=shown,
        next_after=cursor(shown[-1]) if len(found) > PAGE_SIZE else None,
        patients=await spokes_store.patients_by_id(conn, spoke.id, ids),
        services=await service_names(conn),
        consultants=await consultant_names(conn),
    )


# Part 2 consent, as the clinic's pages show it.


@dataclass(frozen=True, slots=True)
class ConsentShown:
    """One of the patient's consents with its status on the clinic's today, in words."""

    consent: Consent
    status: str  # active | expiring | expired | revoked | not_yet_in_force
    days_left: int | None  # an expiring one: days until its last day
    recipients: list[str]  # the network clinics by name, then the named organizations


@dataclass(frozen=True, slots=True)
class ConsentChoices:
    """What the consent form offers: the patient, their clinic, the network's clinics."""

    spoke: Spoke
    patient: Patient
    clinics: list[Spoke]  # the patient's clinic first
    today: date


def consent_shown(given: ConsentStatus, names: dict[int, str]) -> ConsentShown:
    """A consent with its status and its recipients by name."""
    consent = given.consent
    recipients = [names.get(s, f"clinic {s}") for s in consent.recipient_spoke_ids]
    return ConsentShown(
        consent, given.status, given.days_left, recipients + list(consent.other_recipients)
    )


async def clinic_names(conn: asyncpg.Connection) -> dict[int, str]:
    """Every network clinic's name by id (a consent names its recipients by them)."""
    return {s.id: s.name for s in await spokes_store.list_spokes(conn)}


async def consent_choices(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, now: datetime
) -> ConsentChoices:
    """The consent form for one of the caller's patients (another clinic's answers NotFound)."""
    patient = await patients.get(conn, caller, trail, patient_id)
    spoke = await clinic_of(conn, caller)
    clinics = sorted(await spokes_store.list_spokes(conn), key=lambda s: (s.id != spoke.id, s.name))
    return ConsentChoices(spoke, patient, clinics, now.astimezone(spoke.zone).date())


@dataclass(frozen=True, slots=True)
class DisclosureList:
    """The accounting of a patient's disclosures as the clinic's page shows it."""

    spoke: Spoke
    patient: Patient
    accounting: Accounting
    today: date


async def disclosure_list(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    now: datetime,
    *,
    since: date | None,
) -> DisclosureList:
    """One of the caller's patients and what was disclosed about them (the last 3 years, or
    since a day); another clinic's patient answers NotFound."""
    patient = await patients.get(conn, caller, trail, patient_id)
    spoke = await clinic_of(conn, caller)
    shown = await accounting.accounting(conn, caller, trail, patient.id, since=since, now=now)
    return DisclosureList(spoke, patient, shown, now.astimezone(spoke.zone).date())


@dataclass(frozen=True, slots=True)
class PatientConsent:
    """The patient page's consent section: the overall status, each consent, held notes."""

    status: str  # active | expiring | revoked | none (spokes.consent_rules)
    days_left: int | None  # when expiring: days until the covering consent's last day
    consents: list[ConsentShown]
    held: list[HeldNote]


@dataclass(frozen=True, slots=True)
class PatientPage:
    """What the clinic's patient page shows: the record and the patient's Part 2 consent."""

    care: Care
    consent: PatientConsent


async def patient_page(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, now: datetime
) -> PatientPage:
    """The patient's record, their consents with status in the clinic's today, and the notes
    waiting for their consent (never a held note's body)."""
    record = await patient_care(conn, caller, trail, patient_id, now)
    today = now.astimezone(record.spoke.zone).date()
    summary = await consents.summary(conn, caller, trail, record.patient.id, today)
    names = await clinic_names(conn)
    shown = [consent_shown(c, names) for c in summary.consents]
    covering = next((s for s in shown if s.status in ("active", "expiring")), None)
    held = await disclosure.held_notes(conn, spoke_id=record.spoke.id, patient_id=record.patient.id)
    return PatientPage(
        record,
        PatientConsent(
            status=summary.status,
            days_left=covering.days_left if covering and summary.status == "expiring" else None,
            consents=shown,
            held=held,
        ),
    )


async def econsult_consent_gap(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID, now: datetime
) -> str | None:
    """What the patient's consent lacks for the hub's answer to an e-consult to reach the
    clinic, in words (None: a consent in force covers it); another clinic's patient: NotFound."""
    patient = await patients.get(conn, caller, trail, patient_id)
    spoke = await clinic_of(conn, caller)
    today = now.astimezone(spoke.zone).date()
    summary = await consents.summary(conn, caller, trail, patient.id, today)
    if "econsult_answer" not in summary.not_covered:
        return None
    return disclosure.missing_for("econsult_answer")
