"""SQL of the registry: episodes of care, their measures and contacts, and the caseload.

Tenancy is every query's business: a `spoke_id` of None reads every clinic (the hub), a
clinic's id reads only that clinic's rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import asyncpg

_EPISODE_COLUMNS = """
    id, spoke_id, patient_id, program, care_manager_id, treating_clinician, consultant_id,
    started_on, ended_on, end_reason, created_at
"""
_MEASURE_COLUMNS = """
    id, episode_id, spoke_id, kind, measured_on, items, score, adherence, medication,
    daily_dose_mg, screen, recorded_by, recorded_at
"""
_CONTACT_COLUMNS = """
    id, episode_id, spoke_id, contact_on, minutes, kind, who, counts, recorded_by, recorded_at
"""


@dataclass(frozen=True, slots=True)
class Episode:
    """One patient in one program, followed by a care manager with a hub consultant."""

    id: uuid.UUID
    spoke_id: int
    patient_id: uuid.UUID
    program: str
    care_manager_id: int
    treating_clinician: str
    consultant_id: int
    started_on: date
    ended_on: date | None
    end_reason: str | None
    created_at: datetime

    @property
    def is_open(self) -> bool:
        """True until the episode is closed."""
        return self.ended_on is None


@dataclass(frozen=True, slots=True)
class Measure:
    """A measure taken on one day (a questionnaire, MOUD adherence, or a drug screen)."""

    id: uuid.UUID
    episode_id: uuid.UUID
    spoke_id: int
    kind: str
    measured_on: date
    items: list[int] | None
    score: int | None
    adherence: str | None
    medication: str | None
    daily_dose_mg: float | None
    screen: dict[str, str] | None
    recorded_by: str
    recorded_at: datetime


@dataclass(frozen=True, slots=True)
class Contact:
    """A care manager's contact with the patient (the minutes ledger counts these)."""

    id: uuid.UUID
    episode_id: uuid.UUID
    spoke_id: int
    contact_on: date
    minutes: int
    kind: str
    who: str
    counts: bool
    recorded_by: str
    recorded_at: datetime


def _dose(value: Decimal | None) -> float | None:
    return float(value) if value is not None else None


def _measure(row: asyncpg.Record) -> Measure:
    values = dict(row)
    values["items"] = list(values["items"]) if values["items"] is not None else None
    values["daily_dose_mg"] = _dose(values["daily_dose_mg"])
    return Measure(**values)


# --- episodes ------------------------------------------------------------------------------


async def insert_episode(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    patient_id: uuid.UUID,
    program: str,
    care_manager_id: int,
    treating_clinician: str,
    consultant_id: int,
    started_on: date,
    created_by: str,
    now: datetime,
) -> Episode | None:
    """Write a new open episode; None when the patient already has one of that program."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO episodes (spoke_id, patient_id, program, care_manager_id,
                              treating_clinician, consultant_id, started_on, created_by,
                              created_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
        ON CONFLICT (patient_id, program) WHERE ended_on IS NULL DO NOTHING
        RETURNING {_EPISODE_COLUMNS}
        """,
        spoke_id,
        patient_id,
        program,
        care_manager_id,
        treating_clinician,
        consultant_id,
        started_on,
        created_by,
        now,
    )
    return Episode(**dict(row)) if row else None


async def get_episode(
    conn: asyncpg.Connection, episode_id: uuid.UUID, spoke_id: int | None, *, lock: bool = False
) -> Episode | None:
    """One episode, within one clinic (None: any clinic, for the hub)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_EPISODE_COLUMNS} FROM episodes
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
        {"FOR UPDATE" if lock else ""}
        """,
        episode_id,
        spoke_id,
    )
    return Episode(**dict(row)) if row else None


async def episodes_of_patient(
    conn: asyncpg.Connection, patient_id: uuid.UUID, spoke_id: int | None
) -> list[Episode]:
    """A patient's episodes, open and closed, newest start first."""
    rows = await conn.fetch(
        f"""
        SELECT {_EPISODE_COLUMNS} FROM episodes
        WHERE patient_id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
        ORDER BY started_on DESC, created_at DESC, id
        """,
        patient_id,
        spoke_id,
    )
    return [Episode(**dict(r)) for r in rows]


async def close_episode(
    conn: asyncpg.Connection,
    episode_id: uuid.UUID,
    *,
    ended_on: date,
    end_reason: str,
    now: datetime,
) -> Episode | None:
    """Close an open episode; None if it was already closed."""
    row = await conn.fetchrow(
        f"""
        UPDATE episodes SET ended_on = $2, end_reason = $3, updated_at = $4
        WHERE id = $1 AND ended_on IS NULL
        RETURNING {_EPISODE_COLUMNS}
        """,
        episode_id,
        ended_on,
        end_reason,
        now,
    )
    return Episode(**dict(row)) if row else None


# --- measures and contacts -----------------------------------------------------------------


async def insert_measure(
    conn: asyncpg.Connection,
    *,
    episode: Episode,
    kind: str,
    measured_on: date,
    items: Sequence[int] | None = None,
    adherence: str | None = None,
    medication: str | None = None,
    daily_dose_mg: float | None = None,
    screen: dict[str, str] | None = None,
    recorded_by: str,
    now: datetime,
) -> Measure:
    """Write a measure of an episode; the database computes the score from the items."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO care_measures (episode_id, spoke_id, kind, measured_on, items, adherence,
                                   medication, daily_dose_mg, screen, recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5::smallint[], $6, $7, $8, $9, $10, $11)
        RETURNING {_MEASURE_COLUMNS}
        """,
        episode.id,
        episode.spoke_id,
        kind,
        measured_on,
        list(items) if items is not None else None,
        adherence,
        medication,
        Decimal(str(daily_dose_mg)) if daily_dose_mg is not None else None,
        screen,
        recorded_by,
        now,
    )
    assert row is not None
    return _measure(row)


async def latest_measure_id(
    conn: asyncpg.Connection, episode_id: uuid.UUID, kind: str
) -> uuid.UUID | None:
    """The episode's latest measure of a kind: by the day taken, then by when recorded."""
    value: uuid.UUID | None = await conn.fetchval(
        """
        SELECT id FROM care_measures WHERE episode_id = $1 AND kind = $2
        ORDER BY measured_on DESC, recorded_at DESC, id DESC LIMIT 1
        """,
        episode_id,
        kind,
    )
    return value


async def measures_of(conn: asyncpg.Connection, episode_id: uuid.UUID) -> list[Measure]:
    """An episode's measures, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_MEASURE_COLUMNS} FROM care_measures WHERE episode_id = $1
        ORDER BY measured_on DESC, recorded_at DESC, id DESC
        """,
        episode_id,
    )
    return [_measure(r) for r in rows]


async def insert_contact(
    conn: asyncpg.Connection,
    *,
    episode: Episode,
    contact_on: date,
    minutes: int,
    kind: str,
    who: str,
    counts: bool,
    recorded_by: str,
    now: datetime,
) -> Contact:
    """Write a care manager's contact with the patient."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO care_contacts (episode_id, spoke_id, contact_on, minutes, kind, who, counts,
                                   recorded_by, recorded_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
        RETURNING {_CONTACT_COLUMNS}
        """,
        episode.id,
        episode.spoke_id,
        contact_on,
        minutes,
        kind,
        who,
        counts,
        recorded_by,
        now,
    )
    assert row is not None
    return Contact(**dict(row))


async def contacts_of(conn: asyncpg.Connection, episode_id: uuid.UUID) -> list[Contact]:
    """An episode's contacts, newest first."""
    rows = await conn.fetch(
        f"""
        SELECT {_CONTACT_COLUMNS} FROM care_contacts WHERE episode_id = $1
        ORDER BY contact_on DESC, recorded_at DESC, id DESC
        """,
        episode_id,
    )
    return [Contact(**dict(r)) for r in rows]


# --- the caseload: one statement ------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class CaseloadFacts:
    """What one open episode's row of the caseload is made of, as read in one statement."""

    episode: Episode
    timezone: str
    first_phq9: tuple[date, int] | None
    last_phq9: tuple[date, int] | None
    last_phq9_item9: int | None
    first_gad7: tuple[date, int] | None
    last_gad7: tuple[date, int] | None
    last_contact_on: date | None
    last_review_at: datetime | None
    moud_medication: str | None
    moud_adherence: str | None
    moud_dose_mg: float | None
    last_screen: dict[str, str] | None


_CASELOAD_SQL = f"""
SELECT {", ".join(f"e.{c.strip()}" for c in _EPISODE_COLUMNS.split(","))},
       s.timezone,
       fp.measured_on AS fp_on, fp.score AS fp_score,
       lp.measured_on AS lp_on, lp.score AS lp_score, lp.items[9] AS lp_item9,
       fg.measured_on AS fg_on, fg.score AS fg_score,
       lg.measured_on AS lg_on, lg.score AS lg_score,
       (SELECT max(c.contact_on) FROM care_contacts c WHERE c.episode_id = e.id)
           AS last_contact_on,
       (SELECT max(r.recorded_at) FROM recommendations r WHERE r.episode_id = e.id)
           AS last_review_at,
       mo.medication AS moud_medication, mo.adherence AS moud_adherence,
       mo.daily_dose_mg AS moud_dose_mg,
       ud.screen AS last_screen
FROM episodes e
JOIN spokes s ON s.id = e.spoke_id
LEFT JOIN LATERAL (
    SELECT measured_on, score FROM care_measures
    WHERE episode_id = e.id AND kind = 'phq9'
    ORDER BY measured_on, recorded_at, id LIMIT 1) fp ON true
LEFT JOIN LATERAL (
    SELECT measured_on, score, items FROM care_measures
    WHERE episode_id = e.id AND kind = 'phq9'
    ORDER BY measured_on DESC, recorded_at DESC, id DESC LIMIT 1) lp ON true
LEFT JOIN LATERAL (
    SELECT measured_on, score FROM care_measures
    WHERE episode_id = e.id AND kind = 'gad7'
    ORDER BY measured_on, recorded_at, id LIMIT 1) fg ON true
LEFT JOIN LATERAL (
    SELECT measured_on, score FROM care_measures
    WHERE episode_id = e.id AND kind = 'gad7'
    ORDER BY measured_on DESC, recorded_at DESC, id DESC LIMIT 1) lg ON true
LEFT JOIN LATERAL (
    SELECT medication, adherence, daily_dose_mg FROM care_measures
    WHERE episode_id = e.id AND kind = 'moud'
    ORDER BY measured_on DESC, recorded_at DESC, id DESC LIMIT 1) mo ON true
LEFT JOIN LATERAL (
    SELECT screen FROM care_measures
    WHERE episode_id = e.id AND kind = 'urine_drug_screen'
    ORDER BY measured_on DESC, recorded_at DESC, id DESC LIMIT 1) ud ON true
WHERE e.ended_on IS NULL
  AND ($1::bigint IS NULL OR e.spoke_id = $1)
  AND ($2::bigint IS NULL OR e.consultant_id = $2)
  AND ($3::text IS NULL OR e.program = $3)
  AND ($4::uuid[] IS NULL OR e.id = ANY ($4::uuid[]))
"""


def _pair(on: date | None, score: int | None) -> tuple[date, int] | None:
    return (on, score) if on is not None and score is not None else None


async def caseload_facts(
    conn: asyncpg.Connection,
    *,
    spoke_id: int | None,
    consultant_id: int | None = None,
    program: str | None = None,
    episode_ids: Sequence[uuid.UUID] | None = None,
) -> list[CaseloadFacts]:
    """The open episodes (within one clinic, or every clinic's for None) with their facts."""
    rows = await conn.fetch(
        _CASELOAD_SQL,
        spoke_id,
        consultant_id,
        program,
        list(episode_ids) if episode_ids is not None else None,
    )
    found: list[CaseloadFacts] = []
    for r in rows:
        v: dict[str, Any] = dict(r)
        episode = Episode(**{k: v[k] for k in Episode.__dataclass_fields__})
        found.append(
            CaseloadFacts(
                episode=episode,
                timezone=v["timezone"],
                first_phq9=_pair(v["fp_on"], v["fp_score"]),
                last_phq9=_pair(v["lp_on"], v["lp_score"]),
                last_phq9_item9=v["lp_item9"],
                first_gad7=_pair(v["fg_on"], v["fg_score"]),
                last_gad7=_pair(v["lg_on"], v["lg_score"]),
                last_contact_on=v["last_contact_on"],
                last_review_at=v["last_review_at"],
                moud_medication=v["moud_medication"],
                moud_adherence=v["moud_adherence"],
                moud_dose_mg=_dose(v["moud_dose_mg"]),
                last_screen=v["last_screen"],
            )
        )
    return found


async def scores_of(
    conn: asyncpg.Connection, episode_ids: Sequence[uuid.UUID]
) -> list[tuple[uuid.UUID, str, date, int]]:
    """Every PHQ-9 and GAD-7 score of these episodes, oldest first."""
    rows = await conn.fetch(
        """
        SELECT episode_id, kind, measured_on, score FROM care_measures
        WHERE episode_id = ANY ($1::uuid[]) AND kind IN ('phq9', 'gad7')
        ORDER BY episode_id, kind, measured_on, recorded_at, id
        """,
        list(episode_ids),
    )
    return [(r["episode_id"], r["kind"], r["measured_on"], r["score"]) for r in rows]
