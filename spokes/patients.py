"""A clinic's patients: every read and change is audited, and stays within the clinic."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import date

import asyncpg

from spokes import store
from telehub import audit
from telehub.audit import Trail
from telehub.auth import Caller
from telehub.errors import Forbidden, NotFound, PossibleDuplicate


def _spoke_of(caller: Caller) -> int:
    if caller.spoke_id is None:
        raise Forbidden("patients are kept by their clinic: use a spoke's credentials")
    return caller.spoke_id


async def register(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    mrn: str,
    given_name: str,
    family_name: str,
    birth_date: date,
    state: str,
    phone: str | None,
    email: str | None,
    confirm_new: bool = False,
) -> store.Patient:
    """Add a patient to the caller's clinic, unless the clinic may have them already.

    A patient with the same MRN (ignoring case, spaces and dashes) is the same patient: never
    added again. One with the same names and birth date may be someone else: added only when
    the caller confirms (`confirm_new`). Either refusal is a PossibleDuplicate naming them.
    """
    spoke_id = _spoke_of(caller)
    who = {"mrn": mrn, "given_name": given_name, "family_name": family_name}
    found = await store.possible_duplicates(conn, spoke_id, **who, birth_date=birth_date)
    if any(same_mrn for _, same_mrn in found) or (found and not confirm_new):
        raise _possible_duplicate(found)
    patient = await store.insert_patient(
        conn,
        spoke_id=spoke_id,
        mrn=mrn,
        given_name=given_name,
        family_name=family_name,
        birth_date=birth_date,
        state=state,
        phone=phone,
        email=email,
    )
    if patient is None:  # another request added this MRN since the check above
        found = await store.possible_duplicates(conn, spoke_id, **who, birth_date=birth_date)
        raise _possible_duplicate(found)
    await audit.record(conn, trail, "create", "patient", [patient.id], spoke_id)
    return patient


def _possible_duplicate(found: list[tuple[store.Patient, bool]]) -> PossibleDuplicate:
    same_mrn = any(same for _, same in found)
    detail = (
        "this clinic has a patient with this MRN already: it is the same patient"
        if same_mrn
        else "this clinic has a patient with these names and birth date: if this is someone "
        'else, send "confirm_new": true'
    )
    return PossibleDuplicate(
        detail,
        confirmable=not same_mrn,
        candidates=[
            {
                "id": str(p.id),
                "given_name": p.given_name,
                "family_name": p.family_name,
                "birth_date": p.birth_date.isoformat(),
                "mrn": p.mrn,
                "same_mrn": same,
            }
            for p, same in found
        ],
    )


async def candidates_shown(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, refused: PossibleDuplicate
) -> None:
    """Audit the patients a duplicate refusal showed (its own transaction: the refused one
    is rolled back, and a read of patient data is recorded all the same)."""
    ids = [uuid.UUID(c["id"]) for c in refused.extra.get("candidates", [])]
    await audit.record(conn, trail, "read", "patient", ids, _spoke_of(caller))


async def get(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, patient_id: uuid.UUID
) -> store.Patient:
    """One of the caller's patients; another clinic's answers like a missing one."""
    spoke_id = _spoke_of(caller)
    patient = await store.get_patient(conn, spoke_id, patient_id)
    if patient is None:
        raise NotFound("no such patient")
    await audit.record(conn, trail, "read", "patient", [patient.id], spoke_id)
    return patient


async def find(
    conn: asyncpg.Connection, caller: Caller, trail: Trail, *, mrn: str | None, limit: int
) -> list[store.Patient]:
    """The caller's patients, by MRN when given."""
    spoke_id = _spoke_of(caller)
    found = await store.find_patients(conn, spoke_id, mrn=mrn, limit=limit)
    await audit.record(conn, trail, "read", "patient", [p.id for p in found], spoke_id)
    return found


@dataclass(frozen=True, slots=True)
class Matches:
    """One page of a search's answer, best first."""

    patients: list[store.Patient]
    more: bool  # another page follows
    by_mrn: store.Patient | None  # the patient whose MRN is the text typed, if any


_DATE_LIKE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def birth_date_in(text: str) -> date | None:
    """The text read as a birth date (YYYY-MM-DD), when it is one."""
    if not _DATE_LIKE.match(text.strip()):
        return None
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        return None


async def search(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    text: str,
    *,
    offset: int = 0,
    limit: int,
) -> Matches:
    """The caller's patients matching what was typed, best first.

    Ranked: exact MRN (ignoring case, spaces and dashes), exact birth date, a name starting
    with the text, a name holding it (without case or accents); then by family, given name.
    """
    spoke_id = _spoke_of(caller)
    wanted = store.Search(text.strip(), birth_date_in(text), offset, limit)
    found = await store.search_patients(conn, spoke_id, wanted)
    page = found[:limit]
    await audit.record(conn, trail, "read", "patient", [p.id for p, _ in page], spoke_id)
    return Matches(
        [p for p, _ in page],
        len(found) > limit,
        next((p for p, same_mrn in page if same_mrn), None),
    )


async def listed(
    conn: asyncpg.Connection,
    caller: Caller,
    trail: Trail,
    *,
    mrn: str | None,
    offset: int,
    limit: int,
) -> tuple[list[store.Patient], bool]:
    """The caller's patients by name (by exact MRN when given), a page at a time."""
    spoke_id = _spoke_of(caller)
    found = await store.find_patients(conn, spoke_id, mrn=mrn, limit=limit + 1, offset=offset)
    page = found[:limit]
    await audit.record(conn, trail, "read", "patient", [p.id for p in page], spoke_id)
    return page, len(found) > limit
