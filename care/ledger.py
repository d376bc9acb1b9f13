"""The minutes ledger: a clinic's billing report for one calendar month (tenancy, audit)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg

from care import billing, billing_store
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import FieldError, Forbidden, NotFound, ValidationFailed


@dataclass(frozen=True, slots=True)
class PatientName:
    """Who the row is about, shown only to the patient's own clinic when it asks."""

    mrn: str
    given_name: str
    family_name: str


@dataclass(frozen=True, slots=True)
class ReportRow:
    """One patient's one code in the month."""

    patient_id: uuid.UUID
    episode_ids: tuple[uuid.UUID, ...]
    minutes: int
    first_month: bool
    code: str
    units: int
    patient: PatientName | None


@dataclass(frozen=True, slots=True)
class Report:
    """A clinic's billing report for one month."""

    spoke_id: int
    spoke_slug: str
    month: date  # its first day
    rows: list[ReportRow]


def next_month(month: date) -> date:
    """The first day of the month after `month`."""
    return date(month.year + 1, 1, 1) if month.month == 12 else date(month.year, month.month + 1, 1)


def _first_month(month: date, started_on: date) -> bool:
    return (started_on.year, started_on.month) == (month.year, month.month)


async def billing_report(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    month: date,
    spoke_id: int | None,
    names: bool,
) -> Report:
    """The codes each patient's counted minutes support in `month` (its first day).

    A clinic reads its own (another clinic's spoke_id answers 404, as a missing one does);
    the hub names the clinic (422 without spoke_id) and never gets patients' names (403):
    the names are for the clinic that bills. Audits one read per episode counted, and one
    per patient named."""
    if caller.kind == "spoke":
        if spoke_id is not None and spoke_id != caller.spoke_id:
            raise NotFound("no such clinic", errors=[FieldError("spoke_id", "no such clinic")])
        assert caller.spoke_id is not None
        spoke_id = caller.spoke_id
    else:
        if spoke_id is None:
            raise ValidationFailed(
                "spoke_id is required for the hub",
                errors=[FieldError("spoke_id", "name the clinic whose report to read")],
            )
        if names:
            raise Forbidden(
                "patients' names are for their own clinic",
                errors=[FieldError("names", "only the patient's clinic may ask for names")],
            )
    spoke = await spokes_store.get_spoke(conn, spoke_id)
    if spoke is None:
        raise NotFound("no such clinic", errors=[FieldError("spoke_id", "no such clinic")])

    ledger = await billing_store.counted_minutes(conn, spoke.id, month, next_month(month))
    people = (
        await spokes_store.patients_by_id(conn, spoke.id, [p.patient_id for p in ledger])
        if names
        else {}
    )
    rows: list[ReportRow] = []
    for entry in ledger:
        first = _first_month(month, entry.first_started_on)
        found = people.get(entry.patient_id)
        name = PatientName(found.mrn, found.given_name, found.family_name) if found else None
        for billed in billing.codes(entry.minutes, first_month=first):
            rows.append(
                ReportRow(
                    entry.patient_id,
                    entry.episode_ids,
                    entry.minutes,
                    first,
                    billed.code,
                    billed.units,
                    name,
                )
            )
    await audit.record(
        conn, trail, "read", "episode", [e for p in ledger for e in p.episode_ids], spoke.id
    )
    if names:
        await audit.record(conn, trail, "read", "patient", list(people), spoke.id)
    return Report(spoke.id, spoke.slug, month, rows)
