"""SQL for spoke clinics and their patients. Every patient query names its spoke."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

import asyncpg

_SPOKE_COLUMNS = "id, slug, name, state, timezone, webhook_url, mfa_required"
_PATIENT_COLUMNS = (
    "id, spoke_id, mrn, given_name, family_name, birth_date, state, phone, email, created_at"
)


@dataclass(frozen=True, slots=True)
class Spoke:
    """A primary-care clinic served by the hub."""

    id: int
    slug: str
    name: str
    state: str
    timezone: str
    webhook_url: str | None
    mfa_required: bool = False  # its staff sign in with a second factor too

    @property
    def zone(self) -> ZoneInfo:
        """The clinic's time zone: its people read every time in it."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class Patient:
    """A patient of exactly one spoke."""

    id: uuid.UUID
    spoke_id: int
    mrn: str
    given_name: str
    family_name: str
    birth_date: date
    state: str
    phone: str | None
    email: str | None
    created_at: object


async def insert_spoke(
    conn: asyncpg.Connection, *, slug: str, name: str, state: str, timezone: str
) -> Spoke:
    """Add a spoke clinic."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO spokes (slug, name, state, timezone) VALUES ($1, $2, $3, $4)
        RETURNING {_SPOKE_COLUMNS}
        """,
        slug,
        name,
        state,
        timezone,
    )
    assert row is not None
    return Spoke(**dict(row))


async def get_spoke(conn: asyncpg.Connection, spoke_id: int) -> Spoke | None:
    """One spoke by id."""
    row = await conn.fetchrow(f"SELECT {_SPOKE_COLUMNS} FROM spokes WHERE id = $1", spoke_id)
    return Spoke(**dict(row)) if row else None


async def get_spoke_by_slug(conn: asyncpg.Connection, slug: str) -> Spoke | None:
    """One spoke by its slug."""
    row = await conn.fetchrow(f"SELECT {_SPOKE_COLUMNS} FROM spokes WHERE slug = $1", slug)
    return Spoke(**dict(row)) if row else None


@dataclass(frozen=True, slots=True)
class Webhook:
    """Where a spoke takes pushed events, and how."""

    spoke_id: int
    url: str | None
    secret: str | None = field(repr=False)
    full_payload: bool
    disabled_at: datetime | None
    disabled_reason: str | None


_WEBHOOK_COLUMNS = (
    "id AS spoke_id, webhook_url AS url, webhook_secret AS secret, "
    "webhook_full_payload AS full_payload, webhook_disabled_at AS disabled_at, "
    "webhook_disabled_reason AS disabled_reason"
)


async def get_webhook(conn: asyncpg.Connection, spoke_id: int) -> Webhook | None:
    """A spoke's webhook settings (url None: it has none)."""
    row = await conn.fetchrow(f"SELECT {_WEBHOOK_COLUMNS} FROM spokes WHERE id = $1", spoke_id)
    return Webhook(**dict(row)) if row else None


async def active_webhooks(conn: asyncpg.Connection) -> dict[int, Webhook]:
    """The webhooks that are set and not disabled, by spoke id."""
    rows = await conn.fetch(
        f"""
        SELECT {_WEBHOOK_COLUMNS} FROM spokes
        WHERE webhook_url IS NOT NULL AND webhook_disabled_at IS NULL
        """
    )
    return {r["spoke_id"]: Webhook(**dict(r)) for r in rows}


async def set_webhook(
    conn: asyncpg.Connection,
    spoke_id: int,
    *,
    url: str | None,
    secret: str | None,
    full_payload: bool,
) -> Webhook:
    """Set (and re-enable) a spoke's webhook; a None secret keeps the current one."""
    row = await conn.fetchrow(
        f"""
        UPDATE spokes SET webhook_url = $2, webhook_secret = coalesce($3, webhook_secret),
            webhook_full_payload = $4, webhook_disabled_at = NULL, webhook_disabled_reason = NULL
        WHERE id = $1
        RETURNING {_WEBHOOK_COLUMNS}
        """,
        spoke_id,
        url,
        secret,
        full_payload,
    )
    assert row is not None
    return Webhook(**dict(row))


async def disable_webhook(conn: asyncpg.Connection, spoke_id: int, reason: str) -> None:
    """Stop pushing to a spoke's endpoint until it is set again."""
    await conn.execute(
        """
        UPDATE spokes SET webhook_disabled_at = now(), webhook_disabled_reason = $2
        WHERE id = $1 AND webhook_disabled_at IS NULL
        """,
        spoke_id,
        reason,
    )


async def set_mfa_required(conn: asyncpg.Connection, spoke_id: int, required: bool) -> bool:
    """Ask (or stop asking) the clinic's staff for a second factor; False if no such spoke."""
    done = await conn.execute(
        "UPDATE spokes SET mfa_required = $2 WHERE id = $1", spoke_id, required
    )
    return done != "UPDATE 0"


async def list_spokes(conn: asyncpg.Connection) -> list[Spoke]:
    """Every spoke, by name."""
    rows = await conn.fetch(f"SELECT {_SPOKE_COLUMNS} FROM spokes ORDER BY name")
    return [Spoke(**dict(r)) for r in rows]


async def insert_patient(
    conn: asyncpg.Connection,
    *,
    spoke_id: int,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    state: str,
    phone: str | None = None,
    email: str | None = None,
) -> Patient | None:
    """Add a patient to a spoke; None when the spoke already has that MRN (however written:
    the unique index on the MRN key decides, so of two racing inserts one gets None)."""
    row = await conn.fetchrow(
        f"""
        INSERT INTO patients (spoke_id, mrn, given_name, family_name, birth_date, state,
                              phone, email)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
        ON CONFLICT DO NOTHING
        RETURNING {_PATIENT_COLUMNS}
        """,
        spoke_id,
        mrn,
        given_name,
        family_name,
        birth_date,
        state,
        phone,
        email,
    )
    return Patient(**dict(row)) if row else None


async def get_patient(
    conn: asyncpg.Connection, spoke_id: int | None, patient_id: uuid.UUID
) -> Patient | None:
    """A patient by id, within one spoke (None: any spoke, for hub-wide readers)."""
    row = await conn.fetchrow(
        f"""
        SELECT {_PATIENT_COLUMNS} FROM patients
        WHERE id = $1 AND ($2::bigint IS NULL OR spoke_id = $2)
        """,
        patient_id,
        spoke_id,
    )
    return Patient(**dict(row)) if row else None


async def patients_by_id(
    conn: asyncpg.Connection, spoke_id: int | None, ids: list[uuid.UUID]
) -> dict[uuid.UUID, Patient]:
    """Patients by id, within one spoke (None: any spoke, for hub-wide readers)."""
    rows = await conn.fetch(
        f"""
        SELECT {_PATIENT_COLUMNS} FROM patients
        WHERE id = ANY ($1::uuid[]) AND ($2::bigint IS NULL OR spoke_id = $2)
        """,
        ids,
        spoke_id,
    )
    return {r["id"]: Patient(**dict(r)) for r in rows}


async def find_patients(
    conn: asyncpg.Connection, spoke_id: int, *, mrn: str | None, limit: int, offset: int = 0
) -> list[Patient]:
    """A spoke's patients by name (without case or accents: Álvarez before Fictus), by exact
    MRN when given."""
    rows = await conn.fetch(
        f"""
        SELECT {_PATIENT_COLUMNS} FROM patients
        WHERE spoke_id = $1 AND ($2::text IS NULL OR mrn = $2)
        ORDER BY family_key, given_key, id
        OFFSET $4 LIMIT $3
        """,
        spoke_id,
        mrn,
        limit,
        offset,
    )
    return [Patient(**dict(r)) for r in rows]


@dataclass(frozen=True, slots=True)
class Search:
    """What a clinic typed to find a patient, and which page of the answer it wants."""

    text: str  # compared as a name and as an MRN, each through the database's own key
    birth_date: date | None  # the text read as a date, when it is one
    offset: int
    limit: int


async def search_patients(
    conn: asyncpg.Connection, spoke_id: int, search: Search
) -> list[tuple[Patient, bool]]:
    """A spoke's patients matching `search`, best first, each with whether its MRN is the text
    (as a key); one more than `limit` says "more".

    Ranked: the exact MRN (ignoring case, spaces and dashes), then the exact birth date, then a
    name starting with the text (family, given, or both in either order), then a name holding
    it; within a rank by family name, given name. Names compare without case or accents.
    A text with a digit is an MRN or a date, never a name: then the search is two index
    lookups; a name is looked for in the clinic's rows (no trigram index without pg_trgm).
    """
    names = (
        """
                   OR strpos(p.given_key || ' ' || p.family_key, q_name) > 0
                   OR strpos(p.family_key || ' ' || p.given_key, q_name) > 0"""
        if not any(c.isdigit() for c in search.text)
        else ""
    )
    rows = await conn.fetch(
        f"""
        WITH typed AS (
            SELECT nullif(patient_mrn_key($2), '') AS q_mrn,
                   nullif(patient_name_key(replace($2, ',', ' ')), '') AS q_name
        ), found AS (
            SELECT {_PATIENT_COLUMNS}, family_key, given_key,
                   given_key || ' ' || family_key AS given_first,
                   family_key || ' ' || given_key AS family_first,
                   p.mrn_key IS NOT DISTINCT FROM q_mrn AS same_mrn,
                   q_name
            FROM patients p, typed
            WHERE p.spoke_id = $1
              AND (p.mrn_key = q_mrn
                   OR p.birth_date = $3{names})
        )
        SELECT {_PATIENT_COLUMNS}, same_mrn FROM found
        ORDER BY CASE
                   WHEN same_mrn THEN 0
                   WHEN birth_date IS NOT DISTINCT FROM $3 THEN 1
                   WHEN starts_with(family_key, q_name) OR starts_with(given_key, q_name)
                        OR starts_with(given_first, q_name) OR starts_with(family_first, q_name)
                   THEN 2
                   ELSE 3
                 END,
                 family_key, given_key, birth_date, id
        OFFSET $4 LIMIT $5
        """,
        spoke_id,
        search.text,
        search.birth_date,
        search.offset,
        search.limit + 1,
    )
    return [(_patient(r), r["same_mrn"]) for r in rows]


async def possible_duplicates(
    conn: asyncpg.Connection,
    spoke_id: int,
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
) -> list[tuple[Patient, bool]]:
    """A spoke's patients a new one may duplicate, each with whether its MRN is the same.

    The same MRN (ignoring case, spaces and dashes), or the same birth date and the same names
    (ignoring case and accents, given and family also swapped, a common slip of the keyboard).
    """
    rows = await conn.fetch(
        f"""
        SELECT {_PATIENT_COLUMNS}, mrn_key = patient_mrn_key($2) AS same_mrn FROM patients
        WHERE spoke_id = $1
          AND (mrn_key = patient_mrn_key($2)
               OR (birth_date = $5
                   AND (family_key, given_key) IN (
                       (patient_name_key($4), patient_name_key($3)),
                       (patient_name_key($3), patient_name_key($4)))))
        ORDER BY same_mrn DESC, family_key, given_key, id
        LIMIT 20
        """,
        spoke_id,
        mrn,
        given_name,
        family_name,
        birth_date,
    )
    return [(_patient(r), r["same_mrn"]) for r in rows]


def _patient(row: asyncpg.Record) -> Patient:
    """A patient from a row that also says whether it matched by MRN."""
    return Patient(**{k: v for k, v in row.items() if k != "same_mrn"})
