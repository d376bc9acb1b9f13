"""The accounting of disclosures (42 CFR 2.24): what of a patient's Part 2 records went to
whom, how, under which consent, when and by whom, for the patient's clinic and the hub.

The window is the last 3 years, the span the rule gives a patient the right to ask about; an
earlier `since` is clipped to it (and the answer says so)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import asyncpg

from consults import accounting_store
from consults.accounting_store import DisclosureRow
from spokes import store as spokes_store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import NotFound

__all__ = [
    "YEARS",
    "Accounting",
    "DisclosureRow",
    "Window",
    "accounting",
    "disclosures_of",
    "window",
]

YEARS = 3


@dataclass(frozen=True, slots=True)
class Window:
    """The first day the accounting covers, and whether the asked `since` was clipped to it."""

    since: date
    clipped: bool


@dataclass(frozen=True, slots=True)
class Accounting:
    """A patient's disclosures since a day (in the clinic's zone), newest first."""

    patient_id: uuid.UUID
    spoke_id: int
    window: Window
    rows: list[DisclosureRow]


def _years_before(today: date, years: int) -> date:
    try:
        return today.replace(year=today.year - years)
    except ValueError:  # 29 February: the day after 28 February of that year
        return date(today.year - years, 3, 1)


def window(since: date | None, today: date) -> Window:
    """The accounting's first day: `since`, or 3 years ago (the default, and the earliest)."""
    earliest = _years_before(today, YEARS)
    if since is None:
        return Window(earliest, clipped=False)
    if since < earliest:
        return Window(earliest, clipped=True)
    return Window(since, clipped=False)


async def accounting(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    *,
    since: date | None,
    now: datetime | None = None,
) -> Accounting:
    """The patient's accounting, for the patient's clinic or the hub (another clinic: 404).
    Reading it is audited (one row for the patient's accounting)."""
    patient = await spokes_store.get_patient(conn, caller.spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    spoke = await spokes_store.get_spoke(conn, patient.spoke_id)
    assert spoke is not None
    zone = ZoneInfo(spoke.timezone)
    span = window(since, (now or datetime.now(UTC)).astimezone(zone).date())
    start = datetime.combine(span.since, time(0), tzinfo=zone)
    rows = await accounting_store.of_patient(conn, patient.id, since=start)
    await audit.record(conn, trail, "read", "disclosure_accounting", [patient.id], patient.spoke_id)
    return Accounting(patient.id, patient.spoke_id, span, rows)


async def disclosures_of(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    patient_id: uuid.UUID,
    *,
    since: date | None,
    now: datetime | None = None,
) -> list[DisclosureRow]:
    """The patient's disclosure rows (see `accounting`), for pages that need the rows only."""
    return (await accounting(conn, caller, trail, patient_id, since=since, now=now)).rows
