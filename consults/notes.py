"""Consult notes: drafted and signed by the hub, amended as new versions, acknowledged by the
clinic. Signing queues the note for delivery in the same transaction.

A clinic reads a note's body only under 42 CFR part 2: with a consent in force that covers it
(`disclosure.permit`), and each body shown writes one row of the accounting of disclosures.
A note without one is shown as held (no body, what consent is missing). The hub always reads
the body, and its reads are not disclosures.

A note's kind is 'consult', or 'counseling' for a session's or a group seat's note the
counselor marks as counseling notes. An amendment keeps its chain's kind unless the counselor
gives another."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, fields
from datetime import UTC, datetime
from typing import Any

import asyncpg

from consults import accounting_store, disclosure, note_store
from consults import store as econsult_store
from consults.disclosure import Channel
from consults.note_store import Note, NoteKind, NoteScope, Subject
from scheduling import attendance_store, booking_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class Shown(Note):
    """A signed note as a clinic is shown it. Disclosed: its sections and `part2` (the notice,
    the consent's scope, the security labels). Held: `waiting_for` says what consent is
    missing, and `sections` is empty: the body never reaches the clinic. A listing (no
    channel) carries no body either way (of a permitted note, `visit_recommended` only)."""

    waiting_for: str | None = None
    part2: dict[str, Any] | None = None

    @property
    def held(self) -> bool:
        """Waiting for the patient's consent: not disclosed to the clinic."""
        return self.waiting_for is not None


# What a listing of a permitted note keeps of its sections: the flag the clinic's e-consult
# page acts on (offer to book the recommended visit), no clinical text.
_LISTED_SECTIONS = ("visit_recommended",)


def _as_shown(
    note: Note, *, body: bool, waiting_for: str | None, part2: dict[str, Any] | None
) -> Shown:
    values = {f.name: getattr(note, f.name) for f in fields(Note)}
    if waiting_for is not None:
        values["sections"] = {}
    elif not body:
        values["sections"] = {k: v for k, v in note.sections.items() if k in _LISTED_SECTIONS}
    return Shown(**values, waiting_for=waiting_for, part2=part2)


def _check_kind(subject: Subject, kind: NoteKind | None) -> None:
    """Counseling notes are a session's or a group seat's (422 naming `kind` otherwise)."""
    if kind == "counseling" and subject.booking_id is None and subject.group_seat_id is None:
        detail = "counseling applies only to a session's or a group session's note"
        raise ValidationFailed(f"kind: {detail}", errors=[FieldError("kind", detail)])


@dataclass(frozen=True, slots=True)
class _Owner:
    spoke_id: int
    patient_id: uuid.UUID
    consultant_id: int


def scope_of(caller: Caller) -> NoteScope:
    """Spokes see their clinic's notes, consultants their own, the hub all."""
    return NoteScope(spoke_id=caller.spoke_id, consultant_id=caller.consultant_id)


def _hub_only(caller: Caller) -> None:
    if caller.spoke_id is not None:
        raise Forbidden("consult notes are written by the hub")


async def _owner(conn: asyncpg.Connection, caller: Caller, subject: Subject) -> _Owner:
    """Who the subject belongs to; only its consultant (or the hub) writes its note."""
    if subject.econsult_id is not None:
        econsult = await econsult_store.get_econsult(
            conn, subject.econsult_id, econsult_store.Scope(consultant_id=caller.consultant_id)
        )
        if econsult is None:
            raise NotFound("no such e-consult")
        if econsult.consultant_id is None:
            raise Conflict("assign a consultant to the e-consult before writing its note")
        if econsult.status == "cancelled":
            raise Conflict("the e-consult was cancelled")
        return _Owner(econsult.spoke_id, econsult.patient_id, econsult.consultant_id)
    if subject.group_seat_id is not None:
        return await _seat_owner(conn, caller, subject.group_seat_id)
    if subject.recommendation_id is not None:
        return await _recommendation_owner(conn, caller, subject.recommendation_id)
    assert subject.booking_id is not None
    booking = await booking_store.get_booking(
        conn, subject.booking_id, booking_store.Visibility(consultant_id=caller.consultant_id)
    )
    if booking is None:
        raise NotFound("no such booking")
    if booking.status == "cancelled":
        raise Conflict("the booking was cancelled")
    return _Owner(booking.spoke_id, booking.patient_id, booking.consultant_id)


async def _seat_owner(conn: asyncpg.Connection, caller: Caller, seat_id: uuid.UUID) -> _Owner:
    """A group note is one patient's: written by the occurrence's counselor (or the hub) for
    a patient recorded as attended, and owned by that patient's clinic alone."""
    seat = await attendance_store.seat(conn, seat_id)
    if seat is None or caller.consultant_id not in (None, seat.consultant_id):
        raise NotFound("no such seat")
    if seat.occurrence_status == "cancelled":
        raise Conflict("the group session was cancelled")
    if seat.attendance != "attended":
        raise Conflict("record the patient as attended before writing their note")
    return _Owner(seat.spoke_id, seat.patient_id, seat.consultant_id)


async def _recommendation_owner(
    conn: asyncpg.Connection, caller: Caller, recommendation_id: uuid.UUID
) -> _Owner:
    """A recommendation's note is first signed with the recommendation (care.review); an
    amendment keeps the owner of the chain's first version. Consults does not read care's
    tables: the chain itself says whose it is."""
    chain = await note_store.notes_about(conn, Subject(recommendation_id=recommendation_id))
    if not chain or caller.consultant_id not in (None, chain[0].consultant_id):
        raise NotFound("no such recommendation")
    first = chain[0]
    return _Owner(first.spoke_id, first.patient_id, first.consultant_id)


async def sign_recommendation_note(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    recommendation_id: uuid.UUID,
    sections: dict[str, Any],
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    consultant_id: int,
    base_url: str,
    now: datetime,
) -> Note:
    """Create and sign, in the caller's transaction, the note of a recommendation just
    recorded (care.review owns the recommendation and passes its owner explicitly); it goes
    to the clinic through the outbox like every signed note."""
    _hub_only(caller)
    check_signable(sections)
    try:
        draft = await note_store.insert_draft(
            conn,
            Subject(recommendation_id=recommendation_id),
            spoke_id=spoke_id,
            patient_id=patient_id,
            consultant_id=consultant_id,
            sections=sections,
        )
    except note_store.DraftExists:
        raise Conflict("a draft of this note exists already: edit it or sign it") from None
    await audit.record(conn, trail, "create", "consult_note", [draft.id], spoke_id)
    await note_store.sign(conn, draft.id, by=caller.actor, at=now)
    signed = await note_store.get_note(conn, draft.id, NoteScope())
    assert signed is not None and signed.signed_at is not None
    await disclosure.gate(conn, signed, base_url=base_url, now=now)
    await audit.record(conn, trail, "update", "consult_note", [signed.id], spoke_id)
    return signed


async def start_draft(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    subject: Subject,
    sections: dict[str, Any],
    kind: NoteKind | None = None,
) -> Note:
    """Draft the subject's note: version 1, or an amendment once a version is signed. Its
    kind is `kind`, or (None) its chain's ('consult' for a first version)."""
    _hub_only(caller)
    _check_kind(subject, kind)
    owner = await _owner(conn, caller, subject)
    try:
        note = await note_store.insert_draft(
            conn,
            subject,
            spoke_id=owner.spoke_id,
            patient_id=owner.patient_id,
            consultant_id=owner.consultant_id,
            sections=sections,
            kind=kind,
        )
    except note_store.DraftExists:
        raise Conflict("a draft of this note exists already: edit it or sign it") from None
    await audit.record(conn, trail, "create", "consult_note", [note.id], note.spoke_id)
    return note


async def _draft(conn: asyncpg.Connection, caller: Caller, note_id: uuid.UUID) -> Note:
    _hub_only(caller)
    note = await note_store.get_note(conn, note_id, scope_of(caller), lock=True)
    if note is None:
        raise NotFound("no such note")
    if note.signed_at is not None:
        raise Conflict("a signed note cannot change: amend it (a new version) instead")
    return note


async def edit_draft(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    note_id: uuid.UUID,
    sections: dict[str, Any],
    kind: NoteKind | None = None,
) -> Note:
    """Replace a draft's sections (and its kind, unless None); a signed note answers 409."""
    note = await _draft(conn, caller, note_id)
    _check_kind(Subject.of(note), kind)
    await note_store.update_draft(conn, note.id, sections, kind)
    await audit.record(conn, trail, "update", "consult_note", [note.id], note.spoke_id)
    edited = await note_store.get_note(conn, note.id, NoteScope())
    assert edited is not None
    return edited


def check_signable(sections: dict[str, Any]) -> None:
    """A note is signed only with an assessment, a recommendation and a follow-up plan:
    ValidationFailed names each empty one (`sections.assessment`: "is required to sign")."""
    recommendations = sections.get("recommendations") or {}
    filled = {
        "assessment": bool(str(sections.get("assessment", "")).strip()),
        "recommendations": any(str(v).strip() for v in recommendations.values()),
        "follow_up": bool(str(sections.get("follow_up", "")).strip()),
    }
    missing = [
        FieldError(f"sections.{name}", "is required to sign")
        for name, present in filled.items()
        if not present
    ]
    if missing:
        raise ValidationFailed("; ".join(f"{e.field}: {e.detail}" for e in missing), errors=missing)


async def sign(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    note_id: uuid.UUID,
    *,
    base_url: str,
    now: datetime,
) -> Note:
    """Sign a draft: it becomes final, and goes to the clinic (outbox, same transaction)."""
    note = await _draft(conn, caller, note_id)
    check_signable(note.sections)
    await note_store.sign(conn, note.id, by=caller.actor, at=now)
    signed = await note_store.get_note(conn, note.id, NoteScope())
    assert signed is not None and signed.signed_at is not None
    await disclosure.gate(conn, signed, base_url=base_url, now=now)
    if signed.econsult_id is not None:
        econsult = await econsult_store.get_econsult(
            conn, signed.econsult_id, econsult_store.Scope(), lock=True
        )
        assert econsult is not None
        # An answer (or an amendment) reopens the loop until the clinic acknowledges it.
        await econsult_store.set_state(
            conn, econsult.id, status="answered", answered_at=signed.signed_at
        )
    await audit.record(conn, trail, "update", "consult_note", [note.id], note.spoke_id)
    return signed


async def save_and_sign(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    subject: Subject,
    draft_id: uuid.UUID | None,
    sections: dict[str, Any],
    *,
    base_url: str,
    now: datetime,
    kind: NoteKind | None = None,
) -> Note:
    """Save these sections (into the draft `draft_id`, or a new one) and sign them at once.

    A section needed to sign that is empty refuses it before anything is written: pressing
    Sign on an empty note saves no empty draft.
    """
    _hub_only(caller)
    check_signable(sections)
    _check_kind(subject, kind)
    if draft_id is None:
        note = await start_draft(conn, caller, trail, subject, sections, kind)
    else:
        editing = await _draft(conn, caller, draft_id)
        if Subject.of(editing) != subject:
            raise NotFound("no such note")
        note = await edit_draft(conn, caller, trail, draft_id, sections, kind)
    return await sign(conn, caller, trail, note.id, base_url=base_url, now=now)


async def _shown(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    note: Note,
    *,
    channel: Channel | None,
    now: datetime,
    held: dict[uuid.UUID, str],
) -> Note:
    """The note as the caller may see it: the hub, as it is; a clinic, under Part 2."""
    if caller.spoke_id is None:
        return note
    consent = await disclosure.permit(conn, note, recipient_spoke_id=caller.spoke_id, now=now)
    if consent is None:
        missing = held.get(note.id) or disclosure.missing_for(disclosure.category_of(note))
        return _as_shown(note, body=False, waiting_for=missing, part2=None)
    if channel is None:
        return _as_shown(note, body=False, waiting_for=None, part2=None)
    await disclosure.record_disclosure(
        conn,
        note=note,
        consent_id=consent.id,
        recipient_spoke_id=caller.spoke_id,
        channel=channel,
        actor=caller.actor,
        request_id=trail.request_id,
    )
    names = await accounting_store.spoke_names(conn, consent.recipient_spoke_ids)
    return _as_shown(
        note, body=True, waiting_for=None, part2=disclosure.part2_block(consent, names)
    )


async def as_shown(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    found: list[Note],
    *,
    channel: Channel | None,
    now: datetime | None,
) -> list[Note]:
    """Signed notes read elsewhere (a patient's record) as the caller may see them: for a
    clinic, under Part 2 exactly as `get`/`versions` show them (disclosed through `channel`
    and accounted for, held without their body, or with no channel a listing without any)."""
    return await _all_shown(conn, caller, trail, found, channel=channel, now=now)


async def _all_shown(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    found: list[Note],
    *,
    channel: Channel | None,
    now: datetime | None,
) -> list[Note]:
    if caller.spoke_id is None or not found:
        return found
    held = {
        h.note_id: h.missing for h in await disclosure.held_notes(conn, spoke_id=caller.spoke_id)
    }
    at = now or datetime.now(UTC)
    return [await _shown(conn, caller, trail, n, channel=channel, now=at, held=held) for n in found]


async def get(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    note_id: uuid.UUID,
    *,
    channel: Channel = "page",
    now: datetime | None = None,
) -> Note:
    """A note the caller may see; a clinic sees signed notes only, with their body under
    Part 2 (a `Shown`: disclosed through `channel` and accounted for, or held)."""
    note = await note_store.get_note(conn, note_id, scope_of(caller))
    if note is None or (caller.spoke_id is not None and note.signed_at is None):
        raise NotFound("no such note")
    await audit.record(conn, trail, "read", "consult_note", [note.id], note.spoke_id)
    [shown] = await _all_shown(conn, caller, trail, [note], channel=channel, now=now)
    return shown


async def versions(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    subject: Subject,
    *,
    channel: Channel | None = None,
    now: datetime | None = None,
) -> list[Note]:
    """Every version of a subject's note the caller may see, oldest first. For a clinic each
    is a `Shown`: with `channel` every permitted body is disclosed (and accounted for); with
    none (a listing) no body is given."""
    found = [
        n
        for n in await note_store.notes_about(conn, subject)
        if (caller.spoke_id is None or (n.spoke_id == caller.spoke_id and n.signed_at))
        and (caller.consultant_id is None or n.consultant_id == caller.consultant_id)
    ]
    if found:
        await audit.record(
            conn, trail, "read", "consult_note", [n.id for n in found], found[0].spoke_id
        )
    return await _all_shown(conn, caller, trail, found, channel=channel, now=now)


async def inbox(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    acknowledged: bool | None,
    limit: int,
    channel: Channel | None = None,
    now: datetime | None = None,
) -> list[Note]:
    """Signed notes for the caller's clinic (or, for the hub, all), oldest first. For a
    clinic each is a `Shown` (held ones included, without their body); with `channel` the
    permitted bodies are disclosed and accounted for, with none (a listing) no body is given."""
    found = await note_store.list_signed(
        conn, scope_of(caller), acknowledged=acknowledged, limit=limit
    )
    for spoke_id in {n.spoke_id for n in found}:
        ids = [n.id for n in found if n.spoke_id == spoke_id]
        await audit.record(conn, trail, "read", "consult_note", ids, spoke_id)
    return await _all_shown(conn, caller, trail, found, channel=channel, now=now)


async def acknowledge(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, note_id: uuid.UUID, *, now: datetime
) -> Note:
    """The clinic has read the note: the loop closes (acknowledging twice changes nothing).
    A note never disclosed to the clinic and not permitted now (held) answers 409."""
    if caller.spoke_id is None:
        raise Forbidden("the referring clinic acknowledges its notes")
    note = await note_store.get_note(conn, note_id, scope_of(caller))
    if note is None or note.signed_at is None:
        raise NotFound("no such note")
    if not await accounting_store.was_disclosed(conn, note.id, caller.spoke_id) and (
        await disclosure.permit(conn, note, recipient_spoke_id=caller.spoke_id, now=now) is None
    ):
        raise Conflict("the note is waiting for the patient's consent: it has not been disclosed")
    if await note_store.acknowledge(conn, note.id, by=caller.actor, at=now):
        await audit.record(conn, trail, "update", "consult_note", [note.id], note.spoke_id)
    if note.econsult_id is not None:
        await _close_if_answered(conn, note.econsult_id)
    acknowledged = await note_store.get_note(conn, note.id, NoteScope())
    assert acknowledged is not None
    return acknowledged


async def _close_if_answered(conn: asyncpg.Connection, econsult_id: uuid.UUID) -> None:
    """Close the e-consult once its newest signed version is acknowledged."""
    chain = await note_store.notes_about(conn, Subject(econsult_id=econsult_id))
    signed = [n for n in chain if n.signed_at is not None]
    econsult = await econsult_store.get_econsult(
        conn, econsult_id, econsult_store.Scope(), lock=True
    )
    assert econsult is not None
    if econsult.status == "answered" and signed and signed[-1].acknowledged_at is not None:
        await econsult_store.set_state(
            conn, econsult_id, status="closed", closed_at=signed[-1].acknowledged_at
        )
