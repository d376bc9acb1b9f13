"""Systematic case review: the agenda of a case-review booking (the clinic's flagged patients
in flag order) and the consultant's recommendation per patient, signed as a consult note."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime

import asyncpg

from care import registry, review_store, rules
from care import store as care_store
from care.registry import CaseloadRow, Trend
from care.review_store import Recommendation
from consults import notes
from scheduling import booking_store
from scheduling import store as scheduling_store
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, Forbidden, NotFound
from telehub.labels import label

CASE_REVIEW = "case_review"

# Which section of the note carries each choice ("the right field" of its recommendations).
CHOICE_FIELD: dict[str, str] = {
    "no_change": "medications",
    "adjust_medication": "medications",
    "add_psychotherapy": "therapy",
    "refer": "referrals",
    "step_up_care": "referrals",
}
FOLLOW_UP = "Review again at the next systematic case review."


@dataclass(frozen=True, slots=True)
class AgendaItem:
    """One flagged patient of the review: the caseload row, the trend and the last word."""

    row: CaseloadRow
    trend: Trend
    last_recommendation: Recommendation | None


@dataclass(frozen=True, slots=True)
class Agenda:
    """A case review: its booking's facts, the patients to discuss, and what is decided."""

    id: uuid.UUID
    spoke_id: int
    spoke_name: str
    consultant_id: int
    start: datetime
    end: datetime
    status: str
    items: list[AgendaItem]
    recorded: list[Recommendation]  # made in this review, in the order they were made


async def _review(
    conn: asyncpg.Connection, caller: Caller, booking_id: uuid.UUID, *, lock: bool = False
) -> booking_store.Booking:
    """The case-review booking the caller may see: its clinic's, its consultant's, or (the
    hub) any. Another clinic's, another consultant's, or a booking of another service: 404."""
    booking = await booking_store.get_booking(
        conn,
        booking_id,
        booking_store.Visibility(spoke_id=caller.spoke_id, consultant_id=caller.consultant_id),
        lock=lock,
    )
    if booking is None:
        raise NotFound("no such case review")
    service = await scheduling_store.get_service(conn, booking.service_id)
    if service is None or service.kind != CASE_REVIEW:
        raise NotFound("no such case review")
    return booking


async def agenda(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    *,
    today: date | None = None,
    now: datetime | None = None,
) -> Agenda:
    """The review's agenda: the booking clinic's open episodes with a flag, in flag order
    (ties: longest in treatment first), with trends, MOUD and the last recommendation.

    The flags are as of `today`, or (given `now` instead) the clinic's date now.
    """
    booking = await _review(conn, caller, booking_id)
    if today is None:
        assert now is not None, "agenda needs today or now"
        today = await registry.clinic_today(conn, booking.spoke_id, now)
    await audit.record(conn, trail, "read", "booking", [booking.id], booking.spoke_id)
    rows = [
        row
        for row in await registry.caseload(
            conn, caller, trail, today=today, spoke_id=booking.spoke_id
        )
        if row.flags and row.episode.spoke_id == booking.spoke_id
    ]
    ids = [row.episode.id for row in rows]
    trends = await registry.trends(conn, ids)
    latest = await review_store.latest_for(conn, ids)
    recorded = await review_store.of_booking(conn, booking.id)
    read = [r.id for r in latest.values()] + [r.id for r in recorded]
    await audit.record(
        conn, trail, "read", "recommendation", sorted(set(read), key=str), booking.spoke_id
    )
    spoke = await spokes_store.get_spoke(conn, booking.spoke_id)
    return Agenda(
        id=booking.id,
        spoke_id=booking.spoke_id,
        spoke_name=spoke.name if spoke else "",
        consultant_id=booking.consultant_id,
        start=booking.start,
        end=booking.end,
        status=booking.status,
        items=[
            AgendaItem(
                row=row,
                trend=trends.get(row.episode.id, Trend(phq9=[], gad7=[])),
                last_recommendation=latest.get(row.episode.id),
            )
            for row in rows
        ],
        recorded=recorded,
    )


def _scores(
    name: str, first: rules.Score | None, last: rules.Score | None, change: float | None
) -> str:
    if last is None:
        return f"{name}: not measured."
    if first is None or first == last:
        return f"{name} {last.score} on {last.measured_on.isoformat()}."
    moved = f", a change of {change:+.1f}%" if change is not None else ""
    return (
        f"{name} {first.score} on {first.measured_on.isoformat()}, now {last.score} on "
        f"{last.measured_on.isoformat()}{moved}."
    )


def summary(row: CaseloadRow) -> str:
    """The note's assessment: a plain account of what the review saw for this patient."""
    parts = [
        f"Systematic case review: {label(row.episode.program, 'program')}, "
        f"week {row.weeks} of treatment.",
        _scores("PHQ-9", row.first_phq9, row.last_phq9, row.phq9_change),
        _scores("GAD-7", row.first_gad7, row.last_gad7, row.gad7_change),
    ]
    if row.moud_medication:
        parts.append(
            f"MOUD: {row.moud_medication}"
            + (f" {row.moud_dose_mg:g} mg daily" if row.moud_dose_mg is not None else "")
            + (f", {label(row.moud_adherence, 'adherence')}" if row.moud_adherence else "")
            + "."
        )
    flagged = ", ".join(label(f, "flag") for f in row.flags)
    parts.append(f"Flags: {flagged}." if flagged else "No flags.")
    return " ".join(parts)


def sections(row: CaseloadRow, choice: str, text: str) -> dict[str, object]:
    """The recommendation's note: the summary, the choice's words and text in its field, and
    the next review as the follow-up (what `consults.notes.check_signable` asks for)."""
    field = CHOICE_FIELD[choice]
    if field == "medications" and row.episode.program == "oud":
        field = "moud"
    recommended = {"medications": "", "moud": "", "therapy": "", "referrals": ""}
    recommended[field] = f"{label(choice, 'recommendation_choice')}: {text}"
    return {
        "assessment": summary(row),
        "recommendations": recommended,
        "follow_up": FOLLOW_UP,
        "visit_recommended": False,
    }


async def recommend(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    booking_id: uuid.UUID,
    episode_id: uuid.UUID,
    *,
    choice: str,
    text: str,
    base_url: str,
    now: datetime,
) -> Recommendation:
    """Record the consultant's recommendation for one patient of the review and sign it as a
    consult note to the clinic (outbox, same transaction); it is the episode's last review."""
    if caller.spoke_id is not None:
        raise Forbidden("the hub's consultant records the review's recommendations")
    booking = await _review(conn, caller, booking_id, lock=True)
    episode = await care_store.get_episode(conn, episode_id, booking.spoke_id, lock=True)
    if episode is None or episode.ended_on is not None:
        raise NotFound("no such open episode at the review's clinic")
    if booking.status == "cancelled":
        raise Conflict("the case review was cancelled")
    if now < booking.start:
        raise Conflict("the case review has not begun")
    today = await registry.clinic_today(conn, booking.spoke_id, now)
    [row] = await registry.caseload(
        conn, caller, trail, today=today, spoke_id=booking.spoke_id, episode_ids=[episode.id]
    )
    try:
        new_id = await review_store.insert(
            conn,
            booking_id=booking.id,
            episode_id=episode.id,
            spoke_id=booking.spoke_id,
            consultant_id=booking.consultant_id,
            choice=choice,
            text=text,
            recorded_by=caller.actor,
            recorded_at=now,
        )
    except review_store.AlreadyRecommended:
        raise Conflict(
            "this patient has a recommendation from this review already: amend its note"
        ) from None
    await audit.record(conn, trail, "create", "recommendation", [new_id], booking.spoke_id)
    await notes.sign_recommendation_note(
        conn,
        caller,
        trail,
        new_id,
        sections(row, choice, text),
        spoke_id=episode.spoke_id,
        patient_id=episode.patient_id,
        consultant_id=booking.consultant_id,
        base_url=base_url,
        now=now,
    )
    made = await review_store.get(conn, new_id)
    assert made is not None
    return made
