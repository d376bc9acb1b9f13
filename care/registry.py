"""The collaborative care registry: episodes of care, their measures and contacts, the caseload.

Tenancy. An episode belongs to its patient's clinic. A clinic caller reads and writes only its
own clinic's episodes: another clinic's is answered like a missing one (404), and a caseload
filter naming another clinic gives an empty list, never that clinic's rows. The hub (hub
admins and consultants) reads every clinic's episodes and may filter by clinic; only a clinic
writes (enrols, records, closes).

Dates. "Today" is the clinic's date in its own time zone: a measure, a contact, a start or an
end may not be after it.

Privacy. Every read or change of an episode, measure or contact writes an audit row in the
same transaction. A PHQ-9 whose latest answer to item 9 is above 0 queues the webhook
`registry.safety_flag` to the clinic (identifiers, links and a time only: never the answers
or the score). No answer, score or note text goes to a log line.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast
from zoneinfo import ZoneInfo

import asyncpg

from care import rules, store
from care.store import Contact, Episode, Measure
from consults import delivery_store
from hub import store as hub_store
from spokes import store as spokes_store
from telehub import audit, users
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Conflict, FieldError, Forbidden, NotFound, ValidationFailed

SAFETY_EVENT = "registry.safety_flag"
PROGRAMS: tuple[str, ...] = ("collaborative_care", "oud")
END_REASONS: tuple[str, ...] = ("remission", "transferred", "lost_to_follow_up", "declined")
MEASURE_KINDS: tuple[str, ...] = ("phq9", "gad7", "moud", "urine_drug_screen")
CONTACT_KINDS: tuple[str, ...] = ("phone", "video", "in_person", "case_review")
ADHERENCE: tuple[str, ...] = ("taking_as_prescribed", "missed_doses", "stopped")
# Who may consult on an episode of each program.
CONSULTANT_ROLES: dict[str, frozenset[str]] = {
    "collaborative_care": frozenset({"psychiatric_consultant"}),
    "oud": frozenset({"psychiatric_consultant", "addiction_medicine_specialist"}),
}
# What each program measures.
PROGRAM_MEASURES: dict[str, frozenset[str]] = {
    "collaborative_care": frozenset({"phq9", "gad7"}),
    "oud": frozenset(MEASURE_KINDS),
}
ITEMS: dict[str, int] = {"phq9": rules.PHQ9_ITEMS, "gad7": rules.GAD7_ITEMS}


def _invalid(field: str, detail: str) -> ValidationFailed:
    return ValidationFailed(f"{field}: {detail}", errors=[FieldError(field, detail)])


def _clinic_of(caller: Caller) -> int:
    if caller.spoke_id is None:
        raise Forbidden("the registry is kept by the clinic: use a clinic's credentials")
    return caller.spoke_id


def _seen_by(caller: Caller) -> int | None:
    """The clinic whose episodes the caller sees: its own, or None (every clinic) for the hub."""
    return caller.spoke_id


async def clinic_today(conn: asyncpg.Connection, spoke_id: int, now: datetime) -> date:
    """The clinic's date now, in its own time zone."""
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    if spoke is None:
        raise NotFound("no such clinic")
    return now.astimezone(spoke.zone).date()


# --- reading -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseloadRow:
    """One open episode on the caseload, with what the care manager and consultant watch."""

    episode: Episode
    weeks: int
    last_contact_on: date | None
    first_phq9: rules.Score | None
    last_phq9: rules.Score | None
    first_gad7: rules.Score | None
    last_gad7: rules.Score | None
    phq9_change: float | None
    gad7_change: float | None
    last_phq9_item9: int | None
    last_review_at: datetime | None
    moud_medication: str | None
    moud_adherence: str | None
    moud_dose_mg: float | None
    flags: tuple[rules.Flag, ...]


@dataclass(frozen=True, slots=True)
class Trend:
    """An episode's questionnaire scores, oldest first."""

    phq9: list[rules.Score]
    gad7: list[rules.Score]


@dataclass(frozen=True, slots=True)
class History:
    """An episode with every measure and contact, newest first."""

    episode: Episode
    measures: list[Measure]
    contacts: list[Contact]


def _score(pair: tuple[date, int] | None) -> rules.Score | None:
    return rules.Score(pair[0], pair[1]) if pair else None


def _row(facts: store.CaseloadFacts, today: date) -> CaseloadRow:
    e = facts.episode
    first_phq9, last_phq9 = _score(facts.first_phq9), _score(facts.last_phq9)
    first_gad7, last_gad7 = _score(facts.first_gad7), _score(facts.last_gad7)
    last_review_on = (
        facts.last_review_at.astimezone(ZoneInfo(facts.timezone)).date()
        if facts.last_review_at
        else None
    )
    raised = rules.flags(
        rules.Facts(
            program=cast(rules.Program, e.program),
            started_on=e.started_on,
            first_phq9=first_phq9,
            last_phq9=last_phq9,
            last_phq9_item9=facts.last_phq9_item9,
            first_gad7=first_gad7,
            last_gad7=last_gad7,
            last_contact_on=facts.last_contact_on,
            last_review_on=last_review_on,
            moud_medication=facts.moud_medication,
            moud_adherence=cast(rules.Adherence | None, facts.moud_adherence),
            last_screen=facts.last_screen,
        ),
        today,
    )
    return CaseloadRow(
        episode=e,
        weeks=rules.weeks_in_treatment(e.started_on, today),
        last_contact_on=facts.last_contact_on,
        first_phq9=first_phq9,
        last_phq9=last_phq9,
        first_gad7=first_gad7,
        last_gad7=last_gad7,
        phq9_change=rules.change_percent(first_phq9, last_phq9),
        gad7_change=rules.change_percent(first_gad7, last_gad7),
        last_phq9_item9=facts.last_phq9_item9,
        last_review_at=facts.last_review_at,
        moud_medication=facts.moud_medication,
        moud_adherence=facts.moud_adherence,
        moud_dose_mg=facts.moud_dose_mg,
        flags=raised,
    )


async def caseload(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    today: date,
    spoke_id: int | None = None,
    consultant_id: int | None = None,
    program: str | None = None,
    flag: str | None = None,
    episode_ids: Sequence[uuid.UUID] | None = None,
    now: datetime | None = None,
) -> list[CaseloadRow]:
    """The open episodes the caller may see, most urgent first.

    `today` is the day the flags and weeks are reckoned on; with `now` instead, each episode's
    day is its own clinic's date now (what a hub-wide caseload across time zones wants).

    Order: by the first flag in `rules.FLAG_ORDER` (no flag last), then longest in treatment,
    then by episode id (stable). A clinic caller sees only its own clinic: a `spoke_id` of
    another clinic gives an empty list. One audit "read" row per episode returned.
    """
    own = _seen_by(caller)
    if own is not None and spoke_id is not None and spoke_id != own:
        return []
    found = await store.caseload_facts(
        conn,
        spoke_id=own if own is not None else spoke_id,
        consultant_id=consultant_id,
        program=program,
        episode_ids=episode_ids,
    )
    rows = [
        _row(f, now.astimezone(ZoneInfo(f.timezone)).date() if now is not None else today)
        for f in found
    ]
    if flag is not None:
        rows = [r for r in rows if flag in r.flags]
    rows.sort(
        key=lambda r: (rules.first_flag_rank(r.flags), r.episode.started_on, str(r.episode.id))
    )
    for clinic in sorted({r.episode.spoke_id for r in rows}):
        await audit.record(
            conn,
            trail,
            "read",
            "episode",
            [r.episode.id for r in rows if r.episode.spoke_id == clinic],
            clinic,
        )
    return rows


async def get_episode(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, episode_id: uuid.UUID
) -> Episode:
    """One episode (audited); 404 for a missing one or another clinic's."""
    episode = await store.get_episode(conn, episode_id, _seen_by(caller))
    if episode is None:
        raise NotFound("no such episode")
    await audit.record(conn, trail, "read", "episode", [episode.id], episode.spoke_id)
    return episode


async def episodes_of_patient(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> list[Episode]:
    """A patient's episodes, open and closed (audited); 404 for another clinic's patient."""
    own = _seen_by(caller)
    patient = await spokes_store.get_patient(conn, own, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    episodes = await store.episodes_of_patient(conn, patient_id, own)
    await audit.record(conn, trail, "read", "patient", [patient.id], patient.spoke_id)
    await audit.record(conn, trail, "read", "episode", [e.id for e in episodes], patient.spoke_id)
    return episodes


async def trends(
    conn: asyncpg.Connection, episode_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, Trend]:
    """The PHQ-9 and GAD-7 scores of each episode, oldest first (the caller has audited the
    episodes already). Every id asked for has a Trend, empty when it has no scores."""
    found: dict[uuid.UUID, Trend] = {i: Trend([], []) for i in episode_ids}
    for episode_id, kind, on, score in await store.scores_of(conn, list(found)):
        trend = found[episode_id]
        (trend.phq9 if kind == "phq9" else trend.gad7).append(rules.Score(on, score))
    return found


async def history(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, episode_id: uuid.UUID
) -> History:
    """An episode with its measures and contacts, newest first (each audited)."""
    episode = await get_episode(conn, caller, trail, episode_id)
    measures = await store.measures_of(conn, episode.id)
    contacts = await store.contacts_of(conn, episode.id)
    await audit.record(
        conn, trail, "read", "care_measure", [m.id for m in measures], episode.spoke_id
    )
    await audit.record(
        conn, trail, "read", "care_contact", [c.id for c in contacts], episode.spoke_id
    )
    return History(episode, measures, contacts)


# --- changing ------------------------------------------------------------------------------


async def enrol(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    *,
    program: str,
    care_manager_id: int,
    treating_clinician: str,
    consultant_id: int,
    started_on: date,
    now: datetime,
) -> Episode:
    """Open an episode of a program for one of the clinic's patients.

    404 for another clinic's patient; 422 naming the field for a program that is not one, a
    care manager who is not a care manager of this clinic, a consultant who is not an active
    consultant of a role the program takes, a blank treating clinician or a start after the
    clinic's today; 409 when the patient already has an open episode of the program.
    """
    spoke_id = _clinic_of(caller)
    patient = await spokes_store.get_patient(conn, spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    if program not in PROGRAMS:
        raise _invalid("program", f"must be one of {', '.join(PROGRAMS)}")
    manager = await users.get_user(conn, care_manager_id)
    if manager is None or manager.spoke_id != spoke_id or manager.role != "care_manager":
        raise _invalid("care_manager_id", "is not a care manager of this clinic")
    if not treating_clinician.strip():
        raise _invalid("treating_clinician", "must not be blank")
    consultant = await hub_store.get_consultant(conn, consultant_id)
    if (
        consultant is None
        or not consultant.active
        or consultant.role not in CONSULTANT_ROLES[program]
    ):
        roles = " or ".join(sorted(CONSULTANT_ROLES[program])).replace("_", " ")
        raise _invalid("consultant_id", f"is not an active {roles}")
    if started_on > await clinic_today(conn, spoke_id, now):
        raise _invalid("started_on", "is in the future")
    episode = await store.insert_episode(
        conn,
        spoke_id=spoke_id,
        patient_id=patient.id,
        program=program,
        care_manager_id=care_manager_id,
        treating_clinician=treating_clinician.strip(),
        consultant_id=consultant_id,
        started_on=started_on,
        created_by=trail.actor,
        now=now,
    )
    if episode is None:
        raise Conflict(f"the patient already has an open episode of {program}")
    await audit.record(conn, trail, "create", "episode", [episode.id], spoke_id)
    return episode


async def _open_episode(conn: asyncpg.Connection, caller: Caller, episode_id: uuid.UUID) -> Episode:
    """The caller's clinic's episode, locked; 404 for another's, 409 when it is closed."""
    spoke_id = _clinic_of(caller)
    episode = await store.get_episode(conn, episode_id, spoke_id, lock=True)
    if episode is None:
        raise NotFound("no such episode")
    if not episode.is_open:
        raise Conflict("the episode is closed: nothing more is recorded in it")
    return episode


async def _check_day(
    conn: asyncpg.Connection, episode: Episode, field: str, day: date, now: datetime
) -> None:
    if day > await clinic_today(conn, episode.spoke_id, now):
        raise _invalid(field, "is in the future")
    if day < episode.started_on:
        raise _invalid(field, "is before the episode began")


async def close(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    episode_id: uuid.UUID,
    *,
    ended_on: date,
    end_reason: str,
    now: datetime,
) -> Episode:
    """Close an open episode of the caller's clinic (409 if closed already)."""
    episode = await _open_episode(conn, caller, episode_id)
    if end_reason not in END_REASONS:
        raise _invalid("end_reason", f"must be one of {', '.join(END_REASONS)}")
    await _check_day(conn, episode, "ended_on", ended_on, now)
    closed = await store.close_episode(
        conn, episode.id, ended_on=ended_on, end_reason=end_reason, now=now
    )
    if closed is None:  # pragma: no cover - the row is locked and open
        raise Conflict("the episode is closed already")
    await audit.record(conn, trail, "update", "episode", [closed.id], closed.spoke_id)
    return closed


def _check_items(kind: str, items: Sequence[int] | None) -> list[int]:
    if items is None:
        raise _invalid("items", "are required")
    if len(items) != ITEMS[kind]:
        raise _invalid("items", f"must be {ITEMS[kind]} answers, one per item")
    for i, value in enumerate(items):
        if isinstance(value, bool) or not isinstance(value, int):
            raise _invalid(f"items.{i}", "must be a whole number")
        if not 0 <= value <= rules.ITEM_MAX:
            raise _invalid(f"items.{i}", f"must be from 0 to {rules.ITEM_MAX}")
    return list(items)


async def record_measure(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    episode_id: uuid.UUID,
    *,
    kind: str,
    measured_on: date,
    items: Sequence[int] | None = None,
    adherence: str | None = None,
    medication: str | None = None,
    daily_dose_mg: float | None = None,
    screen: dict[str, str] | None = None,
    base_url: str,
    now: datetime,
) -> Measure:
    """Record a measure of an open episode of the caller's clinic; the score is computed.

    A PHQ-9 with item 9 above 0 that is the episode's latest PHQ-9 (not an older one entered
    late) queues `registry.safety_flag` to the clinic in the same transaction.
    """
    episode = await _open_episode(conn, caller, episode_id)
    if kind not in MEASURE_KINDS:
        raise _invalid("kind", f"must be one of {', '.join(MEASURE_KINDS)}")
    if kind not in PROGRAM_MEASURES[episode.program]:
        raise _invalid("kind", f"is not measured in {episode.program.replace('_', ' ')}")
    await _check_day(conn, episode, "measured_on", measured_on, now)
    values: dict[str, Any] = {}
    if kind in ITEMS:
        values["items"] = _check_items(kind, items)
    elif kind == "moud":
        if adherence not in ADHERENCE:
            raise _invalid("adherence", f"must be one of {', '.join(ADHERENCE)}")
        if not medication:
            raise _invalid("medication", "is required")
        if daily_dose_mg is not None and not 0 <= daily_dose_mg <= 2000:
            raise _invalid("daily_dose_mg", "must be from 0 to 2000")
        values.update(adherence=adherence, medication=medication, daily_dose_mg=daily_dose_mg)
    else:
        if not screen:
            raise _invalid("results", "name at least one substance's result")
        values["screen"] = dict(screen)
    measure = await store.insert_measure(
        conn,
        episode=episode,
        kind=kind,
        measured_on=measured_on,
        recorded_by=trail.actor,
        now=now,
        **values,
    )
    await audit.record(conn, trail, "create", "care_measure", [measure.id], episode.spoke_id)
    if (
        kind == "phq9"
        and measure.items is not None
        and measure.items[rules.SAFETY_ITEM - 1] > 0
        and await store.latest_measure_id(conn, episode.id, "phq9") == measure.id
    ):
        await enqueue_safety_flag(conn, episode, measure, base_url=base_url, at=now)
    return measure


def safety_event(
    episode: Episode, measure: Measure, *, base_url: str, at: datetime
) -> dict[str, Any]:
    """The `registry.safety_flag` event: identifiers, links and a time, never the answers or
    the score (the clinic reads those through the API, audited)."""
    return {
        "type": SAFETY_EVENT,
        "timestamp": at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "data": {
            "episode_id": str(episode.id),
            "spoke_id": episode.spoke_id,
            "patient_id": str(episode.patient_id),
            "measure_id": str(measure.id),
            "measured_on": measure.measured_on.isoformat(),
            "links": {
                "episode": f"{base_url}/api/v1/episodes/{episode.id}",
                "measures": f"{base_url}/api/v1/episodes/{episode.id}/measures",
            },
        },
    }


async def enqueue_safety_flag(
    conn: asyncpg.Connection, episode: Episode, measure: Measure, *, base_url: str, at: datetime
) -> str:
    """Queue the safety flag for the episode's clinic, in the recording transaction (the
    outbox's insert trigger, migration 012, wakes the delivery workers at commit)."""
    event = safety_event(episode, measure, base_url=base_url, at=at)
    return await delivery_store.enqueue(
        conn, spoke_id=episode.spoke_id, event_type=SAFETY_EVENT, payload=event
    )


async def record_contact(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    episode_id: uuid.UUID,
    *,
    contact_on: date,
    minutes: int,
    kind: str,
    who: str,
    counts: bool,
    now: datetime,
) -> Contact:
    """Record a care manager's contact with the patient of an open episode."""
    episode = await _open_episode(conn, caller, episode_id)
    await _check_day(conn, episode, "contact_on", contact_on, now)
    if not 1 <= minutes <= 600:
        raise _invalid("minutes", "must be from 1 to 600")
    if kind not in CONTACT_KINDS:
        raise _invalid("kind", f"must be one of {', '.join(CONTACT_KINDS)}")
    if not who.strip():
        raise _invalid("who", "must not be blank")
    contact = await store.insert_contact(
        conn,
        episode=episode,
        contact_on=contact_on,
        minutes=minutes,
        kind=kind,
        who=who.strip(),
        counts=counts,
        recorded_by=trail.actor,
        now=now,
    )
    await audit.record(conn, trail, "create", "care_contact", [contact.id], episode.spoke_id)
    return contact
